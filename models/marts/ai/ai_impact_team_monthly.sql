-- Delivery and quality of the changes merged per team, month (UTC, by merged_at) and cohort of their authors
-- (int_copilot_change_cohorts: `ai_active` | `other` in the week each change was opened), with team `org` for the
-- whole organisation. Measures reuse the project's percentile and DORA-rate macros. Group-size rule: a cohort
-- cell whose changes come from fewer than var min_group_size authors is NULL with is_suppressed; a difference
-- between the cohorts exists only when neither is suppressed. Correlation, not causation.
with

changes as (
    select * from {{ ref('int_copilot_change_cohorts') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

team_changes as (
    select team, cohort, author_person_id, deployment_id, merged_at, lead_time_hours, review_hours, size_lines
    from changes
    union all
    select 'org', cohort, author_person_id, deployment_id, merged_at, lead_time_hours, review_hours, size_lines
    from changes
),

monthly as (
    select
        team,
        {{ period_start('month', 'merged_at') }} as month_start,
        cohort,
        count(*) as merged_changes,
        count(distinct author_person_id) as group_size,
        {{ percentile('lead_time_hours', 0.5) }} as lead_time_median_hours,
        {{ percentile('lead_time_hours', 0.75) }} as lead_time_p75_hours,
        {{ percentile('review_hours', 0.5) }} as review_median_hours,
        {{ percentile('size_lines', 0.5) }} as pr_size_median_lines
    from team_changes
    group by team, {{ period_start('month', 'merged_at') }}, cohort
),

-- the successful production deployments that shipped a cohort's changes of the month
shipped as (
    select distinct
        team_changes.team,
        {{ period_start('month', 'team_changes.merged_at') }} as month_start,
        team_changes.cohort,
        deployments.deployment_id,
        deployments.is_failure,
        deployments.is_rework
    from team_changes
    inner join deployments
        on team_changes.deployment_id = deployments.deployment_id
    where deployments.is_production
        and deployments.status = 'success'
),

deployment_outcomes as (
    select
        team,
        month_start,
        cohort,
        count(*) as deployments,
        sum(case when is_failure then 1 else 0 end) as failed_deployments,
        sum(case when is_rework then 1 else 0 end) as rework_deployments
    from shipped
    group by team, month_start, cohort
),

cohorts as (
    select 'ai_active' as cohort
    union all
    select 'other' as cohort
),

grid as (
    select distinct monthly.team, monthly.month_start, cohorts.cohort
    from monthly
    cross join cohorts
),

measured as (
    select
        grid.team,
        grid.month_start,
        grid.cohort,
        coalesce(monthly.group_size, 0) as group_size,
        coalesce(monthly.group_size, 0) < {{ var('min_group_size') }} as is_suppressed,
        monthly.merged_changes,
        monthly.lead_time_median_hours,
        monthly.lead_time_p75_hours,
        monthly.review_median_hours,
        monthly.pr_size_median_lines,
        coalesce(deployment_outcomes.deployments, 0) as deployments,
        {{ failure_rate('deployment_outcomes.failed_deployments', 'deployment_outcomes.deployments') }}
            as change_failure_rate,
        {{ failure_rate('deployment_outcomes.rework_deployments', 'deployment_outcomes.deployments') }}
            as rework_rate
    from grid
    left join monthly
        on grid.team = monthly.team
        and grid.month_start = monthly.month_start
        and grid.cohort = monthly.cohort
    left join deployment_outcomes
        on grid.team = deployment_outcomes.team
        and grid.month_start = deployment_outcomes.month_start
        and grid.cohort = deployment_outcomes.cohort
),

shown as (
    select
        team,
        month_start,
        cohort,
        group_size,
        is_suppressed,
        {{ suppress_small('coalesce(merged_changes, 0)', 'group_size') }} as merged_changes,
        {{ suppress_small('lead_time_median_hours', 'group_size') }} as lead_time_median_hours,
        {{ suppress_small('lead_time_p75_hours', 'group_size') }} as lead_time_p75_hours,
        {{ suppress_small('review_median_hours', 'group_size') }} as review_median_hours,
        {{ suppress_small('pr_size_median_lines', 'group_size') }} as pr_size_median_lines,
        {{ suppress_small('deployments', 'group_size') }} as deployments,
        {{ suppress_small('change_failure_rate', 'group_size') }} as change_failure_rate,
        {{ suppress_small('rework_rate', 'group_size') }} as rework_rate
    from measured
),

final as (
    select
        -- ids
        shown.team,
        cast(shown.month_start as date) as month_start,
        shown.cohort,
        -- group size
        cast(shown.group_size as bigint) as group_size,
        shown.is_suppressed,
        -- delivery
        cast(shown.merged_changes as bigint) as merged_changes,
        cast(shown.lead_time_median_hours as {{ type_double() }}) as lead_time_median_hours,
        cast(shown.lead_time_p75_hours as {{ type_double() }}) as lead_time_p75_hours,
        cast(shown.review_median_hours as {{ type_double() }}) as review_median_hours,
        cast(shown.pr_size_median_lines as {{ type_double() }}) as pr_size_median_lines,
        -- quality of the deployments that shipped them
        cast(shown.deployments as bigint) as deployments,
        cast(shown.change_failure_rate as {{ type_double() }}) as change_failure_rate,
        cast(shown.rework_rate as {{ type_double() }}) as rework_rate,
        -- this cohort minus the other cohort (NULL when either is suppressed)
        cast(shown.lead_time_median_hours - other.lead_time_median_hours as {{ type_double() }})
            as lead_time_median_diff_hours,
        cast(shown.lead_time_p75_hours - other.lead_time_p75_hours as {{ type_double() }})
            as lead_time_p75_diff_hours,
        cast(shown.review_median_hours - other.review_median_hours as {{ type_double() }})
            as review_median_diff_hours,
        cast(shown.pr_size_median_lines - other.pr_size_median_lines as {{ type_double() }})
            as pr_size_median_diff_lines,
        cast(shown.change_failure_rate - other.change_failure_rate as {{ type_double() }})
            as change_failure_rate_diff,
        cast(shown.rework_rate - other.rework_rate as {{ type_double() }}) as rework_rate_diff
    from shown
    inner join shown as other
        on shown.team = other.team
        and shown.month_start = other.month_start
        and shown.cohort <> other.cohort
)

select * from final
