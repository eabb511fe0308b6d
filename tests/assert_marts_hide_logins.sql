-- Marts carry no person's login, account id, e-mail or name unless var `expose_individuals` is true: no text
-- column of any mart holds a value int_people knows as an identity, person id, e-mail or display name. Every mart
-- is listed below (so dbt runs this test after all of them); a mart missing from the list fails the test.
{{ config(enabled=not var('expose_individuals', false)) }}

{%- set marts = [
    'ai_adoption_team_weekly', 'ai_impact_team_monthly',
    'dim_people', 'dim_repositories', 'dim_services', 'dim_teams', 'dim_users',
    'dora_org_monthly', 'dora_team_monthly', 'dora_team_weekly',
    'fct_builds', 'fct_changes', 'fct_deployments', 'fct_incidents', 'fct_page_views', 'fct_sessions',
    'flow_pr_hygiene_weekly', 'flow_review_load', 'flow_stage_breakdown_weekly',
    'goals_actions', 'goals_status', 'goals_team_maturity',
    'metrics_team_daily', 'metrics_time_spine_daily',
    'planning_investment_monthly', 'planning_issue_cycle_time', 'planning_sprint_outcomes',
    'product_funnel_daily', 'product_metric_daily', 'product_metric_segments_daily', 'product_release_impact',
    'quality_link_coverage', 'quality_team_monthly',
    'usage_team_weekly',
] %}
{%- for mart in marts %}
-- depends_on: {{ ref(mart) }}
{%- endfor %}

{%- set columns = [] -%}
{%- if execute -%}
    {%- set in_project = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name and node.fqn[1] == 'marts' -%}
        {%- do in_project.append(node.name) -%}
    {%- endfor -%}
    {%- set unlisted = in_project | reject('in', marts) | list -%}
    {%- if unlisted -%}
        {{ exceptions.raise_compiler_error('assert_marts_hide_logins: add ' ~ unlisted | join(', ') ~ ' to its list') }}
    {%- endif -%}
    {%- for mart in marts -%}
        {%- for column in adapter.get_columns_in_relation(ref(mart)) if column.is_string() -%}
            {%- do columns.append((mart, column.name)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

with

people as (
    select * from {{ ref('int_people') }}
),

identifying as (
    select identity as value from people
    union
    select person_id from people
    union
    select email from people where email is not null
    union
    select display_name from people where display_name is not null
),

mart_text as (
    {%- for mart, column in columns %}
    select '{{ mart }}' as mart, '{{ column }}' as column_name, cast({{ adapter.quote(column) }} as {{ dbt.type_string() }}) as value
    from {{ ref(mart) }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as mart, cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as value
    {%- endfor %}
)

select mart_text.mart, mart_text.column_name, mart_text.value
from mart_text
inner join identifying
    on mart_text.value = identifying.value
