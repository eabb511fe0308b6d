{#-
    The body of the dora marts: one row per team (or, with by_team=false, the organisation) and period
    (`week` = ISO week from Monday, `month`) that has a successful production deployment, a deployed change
    or an incident. Period membership (DESIGN §9): a deployment by `deployed_at`, a change by the
    `deployed_at` of the deployment that shipped it, an incident by `started_at`, all UTC.
-#}
{% macro dora_metrics(period, by_team=true) -%}
{%- set period_column = period ~ '_start' -%}
{%- set team_select = 'team,' if by_team else '' -%}
{%- set team_group = 'team, ' if by_team else '' -%}
with

deployments as (
    select * from {{ ref('fct_deployments') }}
),

changes as (
    select * from {{ ref('fct_changes') }}
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

dora_benchmarks as (
    select * from {{ ref('dora_benchmarks') }}
),

-- a deployment that failed to deploy never changed production: only successful ones count
production_deployments as (
    select
        {{ team_select }}
        {{ period_start(period, 'deployed_at') }} as period_start,
        cast(deployed_at as date) as deployed_date,
        is_failure,
        is_rework
    from deployments
    where is_production
        and status = 'success'
        and deployed_at is not null
),

deployment_metrics as (
    select
        {{ team_select }}
        period_start,
        count(*) as deployments,
        count(distinct deployed_date) as deployment_days,
        sum(case when is_failure then 1 else 0 end) as failed_deployments,
        sum(case when is_rework then 1 else 0 end) as rework_deployments
    from production_deployments
    group by {{ team_group }}period_start
),

change_metrics as (
    select
        {{ team_select }}
        {{ period_start(period, 'deployed_at') }} as period_start,
        count(*) as changes_deployed,
        {{ percentile('lead_time_hours', 0.5) }} as lead_time_median_hours,
        {{ percentile('lead_time_hours', 0.75) }} as lead_time_p75_hours
    from changes
    where deployed_at is not null
    group by {{ team_group }}{{ period_start(period, 'deployed_at') }}
),

incident_metrics as (
    select
        {{ team_select }}
        {{ period_start(period, 'started_at') }} as period_start,
        count(*) as incidents,
        sum(case when caused_by_deployment_id is not null then 1 else 0 end) as attributed_incidents,
        {{ percentile('case when caused_by_deployment_id is not null then hours_to_restore end', 0.5) }}
            as recovery_median_hours,
        {{ percentile('hours_to_restore', 0.5) }} as time_to_restore_median_hours
    from incidents
    where started_at is not null
    group by {{ team_group }}{{ period_start(period, 'started_at') }}
),

periods as (
    select {{ team_select }} period_start from deployment_metrics
    union
    select {{ team_select }} period_start from change_metrics
    union
    select {{ team_select }} period_start from incident_metrics
),

measured as (
    select
        {% if by_team %}periods.team,{% endif %}
        periods.period_start,
        coalesce(deployment_metrics.deployments, 0) as deployments,
        coalesce(deployment_metrics.deployment_days, 0) as deployment_days,
        {% if period == 'week' -%}
        cast(coalesce(deployment_metrics.deployments, 0) as {{ type_double() }}) as deployments_per_week,
        {%- else -%}
        cast(coalesce(deployment_metrics.deployments, 0) as {{ type_double() }}) * 7
            / {{ dbt.datediff('periods.period_start', dbt.dateadd(period, 1, 'periods.period_start'), 'day') }}
            as deployments_per_week,
        {%- endif %}
        coalesce(change_metrics.changes_deployed, 0) as changes_deployed,
        cast(change_metrics.lead_time_median_hours as {{ type_double() }}) as lead_time_median_hours,
        cast(change_metrics.lead_time_p75_hours as {{ type_double() }}) as lead_time_p75_hours,
        coalesce(deployment_metrics.failed_deployments, 0) as failed_deployments,
        {{ failure_rate('deployment_metrics.failed_deployments', 'deployment_metrics.deployments') }}
            as change_failure_rate,
        coalesce(incident_metrics.incidents, 0) as incidents,
        coalesce(incident_metrics.attributed_incidents, 0) as attributed_incidents,
        cast(incident_metrics.recovery_median_hours as {{ type_double() }}) as recovery_median_hours,
        cast(incident_metrics.time_to_restore_median_hours as {{ type_double() }}) as time_to_restore_median_hours,
        coalesce(deployment_metrics.rework_deployments, 0) as rework_deployments,
        {{ failure_rate('deployment_metrics.rework_deployments', 'deployment_metrics.deployments') }}
            as rework_rate
    from periods
    left join deployment_metrics
        on periods.period_start = deployment_metrics.period_start
        {% if by_team %}and periods.team = deployment_metrics.team{% endif %}
    left join change_metrics
        on periods.period_start = change_metrics.period_start
        {% if by_team %}and periods.team = change_metrics.team{% endif %}
    left join incident_metrics
        on periods.period_start = incident_metrics.period_start
        {% if by_team %}and periods.team = incident_metrics.team{% endif %}
),

{%- set team_expr = 'measured.team' if by_team else none %}

final as (
    select
        -- ids
        {% if by_team %}measured.team,{% endif %}
        cast(measured.period_start as date) as {{ period_column }},
        -- deployment frequency
        cast(measured.deployments as bigint) as deployments,
        cast(measured.deployment_days as bigint) as deployment_days,
        measured.deployments_per_week,
        -- lead time for changes
        cast(measured.changes_deployed as bigint) as changes_deployed,
        measured.lead_time_median_hours,
        measured.lead_time_p75_hours,
        -- change failure rate
        cast(measured.failed_deployments as bigint) as failed_deployments,
        measured.change_failure_rate,
        -- recovery
        cast(measured.incidents as bigint) as incidents,
        cast(measured.attributed_incidents as bigint) as attributed_incidents,
        measured.recovery_median_hours,
        measured.time_to_restore_median_hours,
        -- rework
        cast(measured.rework_deployments as bigint) as rework_deployments,
        measured.rework_rate,
        -- tiers (var dora_report_year)
        cast({{ var('dora_report_year') }} as integer) as report_year,
        {{ dora_tier('deployment_frequency', 'measured.deployments_per_week', team_expr) }}
            as deployment_frequency_tier,
        {{ dora_tier('lead_time', 'measured.lead_time_median_hours', team_expr) }} as lead_time_tier,
        {{ dora_tier('change_failure_rate', 'measured.change_failure_rate', team_expr) }}
            as change_failure_rate_tier,
        {{ dora_tier('recovery_time', 'measured.recovery_median_hours', team_expr) }} as recovery_time_tier
    from measured
)

select * from final
{%- endmacro %}


{#- The DORA rate of `failures` (failed or rework deployments) among `deployments`: NULL without deployments.
    Change failure rate and rework rate everywhere (dora marts, ai_impact_team_monthly) go through here. -#}
{% macro failure_rate(failures, deployments) -%}
    case
        when coalesce({{ deployments }}, 0) > 0
            then cast({{ failures }} as {{ type_double() }}) / {{ deployments }}
    end
{%- endmacro %}
