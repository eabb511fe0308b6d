-- depends_on: {{ ref('fct_changes') }}
-- depends_on: {{ ref('fct_deployments') }}
-- depends_on: {{ ref('fct_incidents') }}
-- depends_on: {{ ref('fct_builds') }}
-- depends_on: {{ ref('planning_sprint_outcomes') }}
-- depends_on: {{ ref('planning_issue_cycle_time') }}
-- One row per metric, team and UTC day with a value: every metric of the semantic layer that has a `team` entity
-- and counts at a day (the catalogue's, config.meta.catalogue, and the teams' own in metrics/*.yml), rendered from
-- the same MetricFlow definitions by macros/semantic_layer.sql (docs/architecture.md §9a). Metrics of weekly or
-- monthly marts (waiting_prs, link and bug shares) and organisation-wide ones (product) are left to `mf query`.
{%- set plans = [] -%}
{%- for metric in semantic_team_metrics() -%}
    {%- set plan = semantic_metric_plan(metric) -%}
    {%- if plan and plan.grain == 'day' -%}
        {%- do plans.append({'metric': metric, 'plan': plan}) -%}
    {%- endif -%}
{%- endfor %}
with

daily as (
    {%- for item in plans %}
    select
        cast('{{ item.metric.name }}' as {{ dbt.type_string() }}) as metric,
        cast({{ item.plan.team }} as {{ dbt.type_string() }}) as team,
        cast({{ item.plan.time }} as date) as metric_date,
        {{ item.plan.value }} as metric_value,
        {{ 'true' if is_team_metric(item.metric) else 'false' }} as is_team_defined,
        cast('{{ item.metric.original_file_path }}' as {{ dbt.type_string() }}) as defined_in
    from {{ ref(item.plan.model) }}
    where {{ item.plan.time }} is not null
        and {{ item.plan.filter }}
    group by {{ item.plan.team }}, cast({{ item.plan.time }} as date)
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as metric,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as date) as metric_date,
        cast(null as {{ type_double() }}) as metric_value,
        false as is_team_defined,
        cast(null as {{ dbt.type_string() }}) as defined_in
    where 1 = 0
    {%- endfor %}
),

final as (
    select
        -- ids
        metric,
        team,
        metric_date,
        -- measures
        metric_value as value,
        -- lineage
        is_team_defined,
        defined_in
    from daily
)

select * from final
