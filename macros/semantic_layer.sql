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
        {%- for metric in graph.get('metrics', {}).values() | sort(attribute='name') -%}
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

{#-
    The semantic layer's metrics in SQL, for the marts and goals that need a metric per team over a period
    (metrics_team_daily, int_goal_metric_values). dbt cannot run MetricFlow inside a model, so this renders the
    subset of MetricFlow's spec the marts need from the same definitions: simple metrics (a measure of one semantic
    model: sum, count, count_distinct, average, min, max, median, continuous percentile, sum_boolean; with
    the metric's filter) and ratio metrics of two such metrics on the same semantic model and time dimension.
    Filters may name the semantic model's own dimensions and entities (`{{ Dimension('change__repository') }}`,
    `{{ Entity('team') }}`). Anything else fails the build naming the metric's file.
    tests/python/test_semantic_layer.py checks the result equals `mf query` metric by metric.
-#}

{#- The semantic model holding a measure, with the measure: {'model': …, 'measure': …}, or none. -#}
{% macro semantic_measure_home(measure_name) -%}
    {%- for semantic_model in graph.get('semantic_models', {}).values() -%}
        {%- for measure in semantic_model.measures -%}
            {%- if measure.name == measure_name -%}
                {{ return({'model': semantic_model, 'measure': measure}) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{% macro semantic_metric_node(metric_name) -%}
    {%- for metric in graph.get('metrics', {}).values() -%}
        {%- if metric.name == metric_name -%}
            {{ return(metric) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{% macro semantic_fail(metric, reason) -%}
    {{ exceptions.raise_compiler_error(metric.original_file_path ~ ': metric ' ~ metric.name ~ ': ' ~ reason) }}
{%- endmacro %}

{#- The SQL templates of a filter (a metric's `filter`, or an input's). -#}
{% macro semantic_where_templates(filter) -%}
    {%- set templates = [] -%}
    {%- if filter and filter.get('where_filters') -%}
        {%- for where in filter.where_filters -%}
            {%- do templates.append(where.where_sql_template) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(templates) }}
{%- endmacro %}

{#- A column of the semantic model by entity or dimension name: its SQL expression (expr, else the name). -#}
{% macro semantic_column(semantic_model, kind, name) -%}
    {%- for item in semantic_model[kind] -%}
        {%- if item.name == name -%}
            {{ return(item.expr or item.name) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- A filter template as SQL on the semantic model's own columns. -#}
{% macro semantic_render_filter(template, semantic_model, metric) -%}
    {%- set pattern = "(\\{\\{\\s*(Dimension|Entity|TimeDimension)\\(\\s*'([^']+)'[^)]*\\)\\s*\\}\\})" -%}
    {%- set rendered = namespace(sql=template) -%}
    {%- set entities = semantic_model.entities | map(attribute='name') | list -%}
    {%- for whole, kind, name in modules.re.findall(pattern, template) -%}
        {%- set parts = name.split('__') -%}
        {%- if kind == 'Entity' and parts | length == 1 -%}
            {%- set column = semantic_column(semantic_model, 'entities', name) -%}
        {%- elif parts | length == 2 and parts[0] in entities -%}
            {%- set column = semantic_column(semantic_model, 'dimensions', parts[1])
                or semantic_column(semantic_model, 'entities', parts[1]) -%}
        {%- else -%}
            {%- set column = none -%}
        {%- endif -%}
        {%- if column is none -%}
            {{ semantic_fail(metric, "the filter's " ~ kind ~ "('" ~ name ~ "') is not a dimension of semantic model "
                             ~ semantic_model.name ~ " (name dimensions as <entity>__<dimension>)") }}
        {%- endif -%}
        {%- set rendered.sql = rendered.sql.replace(whole, '(' ~ column ~ ')') -%}
    {%- endfor -%}
    {%- if '{{' in rendered.sql -%}
        {{ semantic_fail(metric, 'the filter uses a template this build cannot read: ' ~ template) }}
    {%- endif -%}
    {{ return(rendered.sql) }}
{%- endmacro %}

{#- A simple metric as {'model', 'measure', 'filters'} (its own filter plus `extra` templates). -#}
{% macro semantic_simple_input(metric, extra=[]) -%}
    {%- if metric.type != 'simple' -%}
        {{ semantic_fail(metric, 'a ratio takes simple metrics (got ' ~ metric.type ~ ')') }}
    {%- endif -%}
    {%- set home = semantic_measure_home(metric.type_params.measure.name) -%}
    {%- if home is none -%}
        {{ semantic_fail(metric, 'no semantic model has measure ' ~ metric.type_params.measure.name) }}
    {%- endif -%}
    {%- set filters = semantic_where_templates(metric.filter) + semantic_where_templates(metric.type_params.measure.filter)
                      + extra -%}
    {{ return({'model': home.model, 'measure': home.measure, 'filters': filters}) }}
{%- endmacro %}

{#- The aggregate of `column` by a measure's agg. -#}
{% macro semantic_aggregate(measure, column, metric) -%}
    {%- set agg = measure.agg -%}
    {%- if agg in ('sum', 'min', 'max') -%}{{ agg }}({{ column }})
    {%- elif agg == 'sum_boolean' -%}sum(case when {{ column }} then 1 else 0 end)
    {%- elif agg == 'count' -%}count({{ column }})
    {%- elif agg == 'count_distinct' -%}count(distinct {{ column }})
    {%- elif agg == 'average' -%}avg({{ column }})
    {%- elif agg == 'median' -%}{{ percentile(column, 0.5) }}
    {%- elif agg == 'percentile' and not measure.agg_params.use_discrete_percentile -%}
        {{ percentile(column, measure.agg_params.percentile) }}
    {%- else -%}{{ semantic_fail(metric, 'aggregation ' ~ agg ~ ' is not supported here') }}
    {%- endif -%}
{%- endmacro %}

{#- How a metric is computed per team: {'model', 'intermediate_model', 'team', 'time', 'grain', 'filter', 'value'}:
    `value` is an aggregate over the rows of `model` (a mart; or `intermediate_model`, the semantic model's
    config.meta.intermediate_model, the same rows in the intermediate layer) that pass `filter`; `team` and `time`
    are column expressions. None when the metric's semantic model has no `team` entity (organisation-wide). -#}
{% macro semantic_metric_plan(metric) -%}
    {%- set shared = semantic_where_templates(metric.filter) -%}
    {%- if metric.type == 'simple' -%}
        {%- set inputs = [semantic_simple_input(metric)] -%}
    {%- elif metric.type == 'ratio' -%}
        {%- set numerator = semantic_metric_node(metric.type_params.numerator.name) -%}
        {%- set denominator = semantic_metric_node(metric.type_params.denominator.name) -%}
        {%- set inputs = [
            semantic_simple_input(numerator, semantic_where_templates(metric.type_params.numerator.filter)),
            semantic_simple_input(denominator, semantic_where_templates(metric.type_params.denominator.filter))] -%}
    {%- else -%}
        {{ semantic_fail(metric, 'type ' ~ metric.type ~ ' is not supported for a team metric (use simple or ratio)') }}
    {%- endif -%}
    {%- set semantic_model = inputs[0].model -%}
    {%- set time_names = [] -%}
    {%- for input in inputs -%}
        {%- if input.model.name != semantic_model.name -%}
            {{ semantic_fail(metric, 'numerator and denominator must come from the same semantic model') }}
        {%- endif -%}
        {%- do time_names.append(input.measure.agg_time_dimension or semantic_model.defaults.agg_time_dimension) -%}
    {%- endfor -%}
    {%- if time_names | unique | list | length > 1 -%}
        {{ semantic_fail(metric, 'numerator and denominator must count at the same time dimension') }}
    {%- endif -%}
    {%- set team = semantic_column(semantic_model, 'entities', 'team') -%}
    {%- if team is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set grain = namespace(value='day') -%}
    {%- for dimension in semantic_model.dimensions if dimension.name == time_names[0] -%}
        {%- set grain.value = dimension.type_params.time_granularity -%}
    {%- endfor -%}
    {%- set columns = [] -%}
    {%- set simple_filters = namespace(sql=[]) -%}
    {%- for input in inputs -%}
        {%- set conditions = [] -%}
        {%- for template in input.filters -%}
            {%- do conditions.append(semantic_render_filter(template, semantic_model, metric)) -%}
        {%- endfor -%}
        {%- set expr = input.measure.expr or input.measure.name -%}
        {%- if metric.type == 'simple' -%}
            {#- a simple metric's filter is a where: no row (not a NULL row) for a team it filters out -#}
            {%- set simple_filters.sql = conditions -%}
        {%- elif conditions -%}
            {%- set expr = 'case when ' ~ conditions | join(' and ') ~ ' then ' ~ expr ~ ' end' -%}
        {%- endif -%}
        {%- do columns.append(semantic_aggregate(input.measure, expr, metric)) -%}
    {%- endfor -%}
    {%- if metric.type == 'ratio' -%}
        {%- set value = 'cast(' ~ columns[0] ~ ' as ' ~ type_double() ~ ') / cast(nullif(' ~ columns[1] ~ ', 0) as '
                        ~ type_double() ~ ')' -%}
    {%- else -%}
        {%- set value = 'cast(' ~ columns[0] ~ ' as ' ~ type_double() ~ ')' -%}
    {%- endif -%}
    {%- set shared_sql = simple_filters.sql -%}
    {%- for template in shared if metric.type == 'ratio' -%}
        {%- do shared_sql.append(semantic_render_filter(template, semantic_model, metric)) -%}
    {%- endfor -%}
    {%- set meta = semantic_model.config.meta if semantic_model.config and semantic_model.config.meta else {} -%}
    {{ return({'model': semantic_model.node_relation.alias, 'intermediate_model': meta.get('intermediate_model'),
               'team': team,
               'time': semantic_column(semantic_model, 'dimensions', time_names[0]), 'grain': grain.value,
               'filter': shared_sql | join(' and ') or 'true', 'value': value}) }}
{%- endmacro %}

{#- The metrics metrics_team_daily and goals measure: the catalogue's (config.meta.catalogue) and the teams'. -#}
{% macro semantic_team_metrics() -%}
    {%- set metrics = [] -%}
    {%- if execute -%}
        {%- for metric in graph.get('metrics', {}).values() | sort(attribute='name') -%}
            {%- set meta = metric.config.meta if metric.config and metric.config.meta else metric.meta -%}
            {%- if metric.package_name == project_name and (meta.get('catalogue') or is_team_metric(metric)) -%}
                {%- do metrics.append(metric) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(metrics) }}
{%- endmacro %}

{#- The metric catalogue the goals judge by: seeds/metric_catalogue.csv plus every team-defined metric, with the
    category and direction (`better`) its file's config.meta gives (a select of metric, category, better). -#}
{% macro goal_metric_catalogue() -%}
    select
        metric,
        category,
        better
    from {{ ref('metric_catalogue') }}
    {%- if execute %}
    {%- for metric in graph.get('metrics', {}).values() | sort(attribute='name')
        if metric.package_name == project_name and is_team_metric(metric) %}
    {%- set meta = metric.config.meta if metric.config and metric.config.meta else metric.meta %}
    union all
    select
        cast('{{ metric.name }}' as {{ dbt.type_string() }}) as metric,
        cast('{{ meta.get("category", "team") }}' as {{ dbt.type_string() }}) as category,
        cast('{{ meta.get("better", "lower") }}' as {{ dbt.type_string() }}) as better
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#- Every value is a metric goals can target: a row of seeds/metric_catalogue.csv or a team-defined metric. -#}
{% test known_metric(model, column_name) %}
with

catalogue as (
    {{ goal_metric_catalogue() }}
),

checked as (
    select {{ column_name }} as metric
    from {{ model }}
    where {{ column_name }} is not null
)

select checked.metric
from checked
left join catalogue
    on checked.metric = catalogue.metric
where catalogue.metric is null
{% endtest %}
