-- One row per team and ISO week with deployed changes: where a change's lead time goes — coding (first commit →
-- opened), pickup (→ first review by someone else), review (→ merged) and deploy (→ deployed) — as median and p75
-- hours, and each stage's share of lead time. A change belongs to the week of its deployment (docs/architecture.md
-- §9). Shares sum each stage's seconds over the changes whose four spans are all known, divided by their lead
-- time's.
with

changes as (
    select * from {{ ref('fct_changes') }}
    where deployed_at is not null
),

spans as (
    select
        team,
        {{ period_start('week', 'deployed_at') }} as week_start,
        coding_hours,
        pickup_hours,
        review_hours,
        deploy_hours,
        lead_time_hours,
        coding_hours is not null and pickup_hours is not null and review_hours is not null
            and deploy_hours is not null and lead_time_hours > 0 as is_complete
    from changes
),

-- the shares' spans in whole seconds again (`hours_between` divides whole seconds by 3600), so their sums are
-- exact: a sum of doubles depends on the order the rows are added in, and a nightly and a full refresh of the same
-- 2,000-engineer organisation gave shares a last digit apart
complete_spans as (
    select
        *,
        {%- for stage in ['coding', 'pickup', 'review', 'deploy', 'lead_time'] %}
        case when is_complete then cast(round({{ stage }}_hours * 3600) as {{ dbt.type_bigint() }}) end
            as {{ stage }}_seconds{{ ',' if not loop.last }}
        {%- endfor %}
    from spans
),

final as (
    select
        -- ids
        team,
        week_start,
        -- volume
        count(*) as changes,
        -- stage medians and p75s
        {%- for stage in ['coding', 'pickup', 'review', 'deploy', 'lead_time'] %}
        cast({{ percentile(stage ~ '_hours', 0.5) }} as {{ type_double() }}) as {{ stage }}_median_hours,
        cast({{ percentile(stage ~ '_hours', 0.75) }} as {{ type_double() }}) as {{ stage }}_p75_hours,
        {%- endfor %}
        -- share of lead time per stage (changes with every span known)
        {%- for stage in ['coding', 'pickup', 'review', 'deploy'] %}
        cast(sum({{ stage }}_seconds) as {{ type_double() }})
            / nullif(cast(sum(lead_time_seconds) as {{ type_double() }}), 0) as {{ stage }}_share{{ ',' if not loop.last }}
        {%- endfor %}
    from complete_spans
    group by team, week_start
)

select * from final
