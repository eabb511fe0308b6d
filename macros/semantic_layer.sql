{#-
    The semantic layer (models/marts/metrics/_metrics__models.yml, team files under metrics/) as dbt sees it:
    `graph.metrics` and `graph.semantic_models` hold every MetricFlow metric and semantic model of the project
    (docs/architecture.md §9a).
-#}

{#- Is this metric defined by a team (a file under the team metrics directory, var-free: every metric whose YAML
    is not under models/)? -#}
{% macro is_team_metric(metric) -%}
    {{ return(not metric.original_file_path.startswith('models/')) }}
{%- endmacro %}

{#- The team a team metric belongs to: its `meta.team` (config.meta), else its file's name without extension. -#}
{% macro team_metric_team(metric) -%}
    {%- set meta = metric.config.meta if metric.config and metric.config.meta else metric.meta -%}
    {%- if meta and meta.get('team') -%}
        {{ return(meta.get('team')) }}
    {%- endif -%}
    {{ return(metric.original_file_path.split('/')[-1].rsplit('.', 1)[0]) }}
{%- endmacro %}

{#- md5 of what a metric computes and says: type, type params, filter, label, description, meta. Whitespace or
    comment changes in the file do not change it; any change to the definition does. -#}
{% macro metric_definition_hash(metric) -%}
    {%- set meta = metric.config.meta if metric.config and metric.config.meta else metric.meta -%}
    {%- set definition = {
        'type': metric.type, 'type_params': metric.type_params, 'filter': metric.filter,
        'label': metric.label, 'description': metric.description, 'meta': meta} -%}
    {{ return(local_md5(tojson(definition, sort_keys=true))) }}
{%- endmacro %}

{#- Team-defined metrics as a select: team, metric_name, defined_in (file), definition_hash; no rows without any. -#}
{% macro team_metric_definitions() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for metric in graph.metrics.values() | sort(attribute='name') -%}
            {%- if metric.package_name == project_name and is_team_metric(metric) -%}
                {%- do rows.append(metric) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for metric in rows %}
    select
        cast('{{ team_metric_team(metric) }}' as {{ dbt.type_string() }}) as team,
        cast('{{ metric.name }}' as {{ dbt.type_string() }}) as metric_name,
        cast('{{ metric.original_file_path }}' as {{ dbt.type_string() }}) as defined_in,
        cast('{{ metric_definition_hash(metric) }}' as {{ dbt.type_string() }}) as definition_hash
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as metric_name,
        cast(null as {{ dbt.type_string() }}) as defined_in,
        cast(null as {{ dbt.type_string() }}) as definition_hash
    where 1 = 0
    {%- endfor -%}
{%- endmacro %}
