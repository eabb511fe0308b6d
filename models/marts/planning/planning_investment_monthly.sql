-- Where done work goes: each done issue (sub-tasks left out) takes the category of the highest-priority rule of
-- seeds/investment_categories.csv it matches (issue type, any label, or its epic's key or title), else
-- `uncategorised`; shares per team and month of the issue being done. Months without done work have no rows.
with

issues as (
    select * from {{ ref('int_issues') }}
),

rules as (
    select * from {{ ref('investment_categories') }}
),

done_issues as (
    select
        issues.team,
        issues.issue_key,
        issues.issue_type,
        issues.labels,
        issues.story_points,
        epics.issue_ref as epic_ref,
        epics.title as epic_title,
        {{ period_start('month', 'issues.done_at') }} as month_start
    from issues
    left join issues as epics
        on issues.parent_issue_key = epics.issue_key
    where issues.status = 'done'
        and issues.done_at is not null
        and not issues.is_subtask
),

matches as (
    select
        done_issues.issue_key,
        rules.category,
        row_number() over (partition by done_issues.issue_key order by rules.priority) as rule_rank
    from done_issues
    inner join rules
        on case rules.match_on
            when 'issue_type' then {{ regex_found('done_issues.issue_type', 'rules.pattern') }}
            when 'label' then {{ any_label_matches('done_issues.labels', 'rules.pattern') }}
            when 'epic' then {{ regex_found('done_issues.epic_ref', 'rules.pattern') }}
                or {{ regex_found('done_issues.epic_title', 'rules.pattern') }}
            else false
        end
),

categorised as (
    select
        done_issues.team,
        done_issues.month_start,
        coalesce(matches.category, 'uncategorised') as category,
        done_issues.story_points
    from done_issues
    left join matches
        on done_issues.issue_key = matches.issue_key
        and matches.rule_rank = 1
),

counted as (
    select
        team,
        month_start,
        category,
        count(*) as done_issues,
        coalesce(sum(story_points), 0) as done_points
    from categorised
    group by team, month_start, category
),

final as (
    select
        -- ids
        team,
        month_start,
        category,
        -- measures
        cast(done_issues as bigint) as done_issues,
        cast(done_points as {{ type_double() }}) as done_points,
        cast(done_issues as {{ type_double() }}) / sum(done_issues) over (partition by team, month_start) as issue_share,
        case
            when sum(done_points) over (partition by team, month_start) > 0
                then cast(done_points as {{ type_double() }}) / sum(done_points) over (partition by team, month_start)
        end as points_share
    from counted
)

select * from final
