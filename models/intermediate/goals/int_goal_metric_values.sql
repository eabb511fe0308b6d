-- The value of each goal's metric for its team (or the whole organisation, team `org`) over the `goal_window_days`
-- days ending at an evaluation date: at `start_date` (for a blank baseline) and at the judging date (today, or the
-- due date once it has passed). Metrics follow docs/architecture.md §9; a metric of the catalogue not measured
-- here (yet) has a NULL value, so its goal reads `no_data`. A team-defined metric (metrics/*.yml) is measured from
-- its MetricFlow definition (macros/semantic_layer.sql) on the intermediate facts its semantic model publishes
-- (config.meta.intermediate_model); one over another semantic model has no value here.
{%- set team_plans = [] -%}
{%- for metric in semantic_team_metrics() if is_team_metric(metric) -%}
    {%- set plan = semantic_metric_plan(metric) -%}
    {%- if plan and plan.intermediate_model -%}
        {%- do team_plans.append({'metric': metric, 'plan': plan}) -%}
    {%- endif -%}
{%- endfor %}
with

targets as (
    -- the seed's dates moved by var `goal_date_shift_days` (macros/as_of_date.sql)
    {{ goal_targets() }}
),

deployments as (
    select * from {{ ref('int_deployment_facts') }}
),

changes as (
    select * from {{ ref('int_change_facts') }}
),

incidents as (
    select * from {{ ref('int_incident_facts') }}
),

copilot_person_weeks as (
    select * from {{ ref('int_copilot_person_weeks') }}
),

copilot_change_cohorts as (
    select * from {{ ref('int_copilot_change_cohorts') }}
),

evaluation_points as (
    select
        goal_id,
        team,
        metric,
        'baseline' as evaluation,
        cast(start_date as date) as window_end_date
    from targets
    union all
    select
        goal_id,
        team,
        metric,
        'judged' as evaluation,
        least({{ as_of_date() }}, cast(due_date as date)) as window_end_date
    from targets
),

windows as (
    select
        *,
        -- the window covers whole days up to and including window_end_date
        {{ dbt.dateadd('day', 1, 'cast(window_end_date as timestamp)') }} as window_end_at,
        {{ dbt.dateadd('day', '1 - ' ~ var('goal_window_days'), 'cast(window_end_date as timestamp)') }}
            as window_start_at
    from evaluation_points
),

deployment_values as (
    select
        windows.goal_id,
        windows.evaluation,
        count(deployments.deployment_id) as deployments,
        sum(case when deployments.is_failure then 1 else 0 end) as failed_deployments,
        sum(case when deployments.is_rework then 1 else 0 end) as rework_deployments
    from windows
    left join deployments
        on (windows.team = 'org' or deployments.team = windows.team)
        and deployments.is_production
        and deployments.status = 'success'
        and deployments.deployed_at >= windows.window_start_at
        and deployments.deployed_at < windows.window_end_at
    group by windows.goal_id, windows.evaluation
),

-- changes by the week they deployed (lead time and its stages, docs/architecture.md §9)
change_values as (
    select
        windows.goal_id,
        windows.evaluation,
        {{ percentile('changes.lead_time_hours', 0.5) }} as lead_time_median_hours,
        {{ percentile('changes.coding_hours', 0.5) }} as coding_median_hours,
        {{ percentile('changes.pickup_hours', 0.5) }} as pickup_median_hours,
        {{ percentile('changes.review_hours', 0.5) }} as review_median_hours,
        {{ percentile('changes.deploy_hours', 0.5) }} as deploy_median_hours
    from windows
    inner join changes
        on (windows.team = 'org' or changes.team = windows.team)
        and changes.deployed_at >= windows.window_start_at
        and changes.deployed_at < windows.window_end_at
    group by windows.goal_id, windows.evaluation
),

-- pull requests by the day they merged (hygiene)
merge_values as (
    select
        windows.goal_id,
        windows.evaluation,
        {{ percentile('changes.size_lines', 0.5) }} as size_lines_median,
        avg(case when changes.first_review_at is null or changes.first_review_at > changes.merged_at
                then 1.0
            else 0.0
        end) as share_unreviewed,
        avg(case when changes.approved_at is null or changes.approved_at > changes.merged_at
                then 1.0
            else 0.0
        end) as share_merged_without_approval
    from windows
    inner join changes
        on (windows.team = 'org' or changes.team = windows.team)
        and changes.merged_at >= windows.window_start_at
        and changes.merged_at < windows.window_end_at
    group by windows.goal_id, windows.evaluation
),

incident_values as (
    select
        windows.goal_id,
        windows.evaluation,
        {{ percentile('incidents.hours_to_restore', 0.5) }} as recovery_median_hours
    from windows
    inner join incidents
        on (windows.team = 'org' or incidents.team = windows.team)
        and incidents.caused_by_deployment_id is not null
        and incidents.started_at >= windows.window_start_at
        and incidents.started_at < windows.window_end_at
    group by windows.goal_id, windows.evaluation
),

-- AI adoption over the weeks starting in the window (team `org`: everyone); NULL below min_group_size people
ai_adoption_values as (
    select
        windows.goal_id,
        windows.evaluation,
        {{ suppress_small(
            'cast(sum(case when copilot_person_weeks.is_ai_active then 1 else 0 end) as ' ~ type_double() ~ ')'
            ~ ' / count(*)', 'count(distinct copilot_person_weeks.person_id)') }} as ai_active_share,
        {{ suppress_small(
            'cast(sum(case when copilot_person_weeks.is_ai_active then 1 else 0 end) as ' ~ type_double() ~ ')'
            ~ ' / count(distinct copilot_person_weeks.week_start)',
            'count(distinct copilot_person_weeks.person_id)') }} as ai_active_engineers
    from windows
    inner join copilot_person_weeks
        on copilot_person_weeks.team = windows.team
        and copilot_person_weeks.week_start >= windows.window_start_at
        and copilot_person_weeks.week_start < windows.window_end_at
    group by windows.goal_id, windows.evaluation
),

-- each cohort's merged changes in the window, as in ai_impact_team_monthly
ai_cohort_values as (
    select
        windows.goal_id,
        windows.evaluation,
        copilot_change_cohorts.cohort,
        count(distinct copilot_change_cohorts.author_person_id) as authors,
        {{ percentile('copilot_change_cohorts.lead_time_hours', 0.5) }} as lead_time_median_hours,
        count(distinct case when deployments.is_failure then deployments.deployment_id end) as failed_deployments,
        count(distinct deployments.deployment_id) as deployments
    from windows
    inner join copilot_change_cohorts
        on (windows.team = 'org' or copilot_change_cohorts.team = windows.team)
        and copilot_change_cohorts.merged_at >= windows.window_start_at
        and copilot_change_cohorts.merged_at < windows.window_end_at
    left join deployments
        on copilot_change_cohorts.deployment_id = deployments.deployment_id
        and deployments.is_production
        and deployments.status = 'success'
    group by windows.goal_id, windows.evaluation, copilot_change_cohorts.cohort
),

ai_impact_values as (
    select
        ai_active.goal_id,
        ai_active.evaluation,
        case when ai_active.authors >= {{ var('min_group_size') }} and other.authors >= {{ var('min_group_size') }}
            then ai_active.lead_time_median_hours - other.lead_time_median_hours
        end as lead_time_difference,
        case when ai_active.authors >= {{ var('min_group_size') }} and other.authors >= {{ var('min_group_size') }}
            then {{ failure_rate('ai_active.failed_deployments', 'ai_active.deployments') }}
                - {{ failure_rate('other.failed_deployments', 'other.deployments') }}
        end as change_failure_rate_difference
    from ai_cohort_values as ai_active
    inner join ai_cohort_values as other
        on ai_active.goal_id = other.goal_id
        and ai_active.evaluation = other.evaluation
        and ai_active.cohort = 'ai_active'
        and other.cohort = 'other'
),

-- team-defined metrics over the window; the window's columns renamed so the metric's own SQL reads the facts'
goal_windows as (
    select
        goal_id as window_goal_id,
        evaluation as window_evaluation,
        team as window_team,
        metric as window_metric,
        window_start_at as window_from,
        window_end_at as window_to
    from windows
),

team_metric_values as (
    {%- for item in team_plans %}
    select
        goal_windows.window_goal_id as goal_id,
        goal_windows.window_evaluation as evaluation,
        {{ item.plan.value }} as metric_value
    from goal_windows
    inner join {{ ref(item.plan.intermediate_model) }}
        on goal_windows.window_metric = '{{ item.metric.name }}'
        and (goal_windows.window_team = 'org' or {{ item.plan.team }} = goal_windows.window_team)
        and {{ item.plan.time }} >= goal_windows.window_from
        and {{ item.plan.time }} < goal_windows.window_to
    where {{ item.plan.filter }}
    group by goal_windows.window_goal_id, goal_windows.window_evaluation
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as goal_id,
        cast(null as {{ dbt.type_string() }}) as evaluation,
        cast(null as {{ type_double() }}) as metric_value
    where 1 = 0
    {%- endfor %}
),

final as (
    select
        -- ids
        windows.goal_id,
        windows.evaluation,
        windows.team,
        windows.metric,
        -- window
        windows.window_end_date,
        windows.window_start_at,
        windows.window_end_at,
        -- measures
        cast(case windows.metric
            when 'deployment_frequency'
                then deployment_values.deployments * 7.0 / {{ var('goal_window_days') }}
            when 'change_failure_rate'
                then deployment_values.failed_deployments * 1.0 / nullif(deployment_values.deployments, 0)
            when 'rework_rate'
                then deployment_values.rework_deployments * 1.0 / nullif(deployment_values.deployments, 0)
            when 'lead_time' then change_values.lead_time_median_hours
            when 'coding_time' then change_values.coding_median_hours
            when 'pickup_time' then change_values.pickup_median_hours
            when 'review_time' then change_values.review_median_hours
            when 'deploy_time' then change_values.deploy_median_hours
            when 'pr_size_lines' then merge_values.size_lines_median
            when 'share_unreviewed' then merge_values.share_unreviewed
            when 'share_merged_without_approval' then merge_values.share_merged_without_approval
            when 'recovery_time' then incident_values.recovery_median_hours
            when 'ai_active_share' then ai_adoption_values.ai_active_share
            when 'ai_active_engineers' then ai_adoption_values.ai_active_engineers
            when 'ai_lead_time_difference' then ai_impact_values.lead_time_difference
            when 'ai_change_failure_rate_difference' then ai_impact_values.change_failure_rate_difference
            else team_metric_values.metric_value
        end as {{ type_double() }}) as metric_value
    from windows
    left join deployment_values
        on windows.goal_id = deployment_values.goal_id
        and windows.evaluation = deployment_values.evaluation
    left join change_values
        on windows.goal_id = change_values.goal_id
        and windows.evaluation = change_values.evaluation
    left join merge_values
        on windows.goal_id = merge_values.goal_id
        and windows.evaluation = merge_values.evaluation
    left join incident_values
        on windows.goal_id = incident_values.goal_id
        and windows.evaluation = incident_values.evaluation
    left join ai_adoption_values
        on windows.goal_id = ai_adoption_values.goal_id
        and windows.evaluation = ai_adoption_values.evaluation
    left join ai_impact_values
        on windows.goal_id = ai_impact_values.goal_id
        and windows.evaluation = ai_impact_values.evaluation
    left join team_metric_values
        on windows.goal_id = team_metric_values.goal_id
        and windows.evaluation = team_metric_values.evaluation
)

select * from final
