{#- Incidents (and those attributed to a deployment) per team and UTC month of their start, from `relation`
    (a CTE or relation shaped like fct_incidents): the incident counts the quality marts share. -#}
{% macro monthly_incident_counts(relation) -%}
    select
        team,
        {{ period_start('month', 'started_at') }} as month_start,
        count(*) as incidents,
        sum(case when caused_by_deployment_id is not null then 1 else 0 end) as incidents_attributed
    from {{ relation }}
    where started_at is not null
    group by team, {{ period_start('month', 'started_at') }}
{%- endmacro %}
