{#- Spark (dbt-spark) spellings of the project's cross-database macros (macros/cross_database.sql) and the
    dbt/adapter gaps the project hits on Spark. Spark SQL string literals treat a backslash as an escape
    character, so every literal built from a var (regexes) goes through `spark_literal`. -#}

{#- A quoted Spark SQL string literal of `text`: backslashes and single quotes escaped. -#}
{% macro spark_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- The Spark spelling of a portable type name: Spark has no bare `varchar` (it needs a length), `string` is
    its text type. Used by contracts (dbt's `cast`) and seeds (`column_types`). -#}
{% macro spark_type(data_type) -%}
    {%- set name = data_type | trim | lower -%}
    {%- if name in ('varchar', 'text', 'character varying') -%}string
    {%- elif name == 'double precision' -%}double
    {%- else -%}{{ data_type }}{%- endif -%}
{%- endmacro %}

{#- Timestamps: the session time zone is UTC (profiles.yml), so a cast is the UTC timestamp. -#}
{% macro spark__to_utc(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{% macro spark__matches(expr, pattern) -%}
    coalesce({{ expr }} rlike {{ spark_literal(pattern) }}, false)
{%- endmacro %}

{#- dbt's `cast` (contracts compare a model's columns with `cast(null as <data_type>)` of its YAML). -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type(type) }})
{%- endmacro %}

{#- Seeds: dbt-spark's own macros, with `column_types` through `spark_type`, and values written as escaped
    literals (the session method substitutes bindings into the SQL unquoted: a value with a quote breaks it). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set types = [] %}
    {% for col_name in agate_table.column_names %}
        {% do types.append(spark_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}null{%- else -%}cast({{ spark_literal(value | string) }} as {{ types[loop.index0] }}){%- endif -%}
                    {%- if not loop.last %}, {% endif %}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {% set sql %}
        create table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }}
                {{ spark_type(column_override.get(col_name, inferred_type)) }}
                {%- if not loop.last -%}, {%- endif -%}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}

{#- The text of a SQL string literal `literal` ('...' with '' for a quote), as written in a model. -#}
{% macro spark_unquote(literal) -%}
    {%- set text = literal | trim -%}
    {%- if text[:1] != "'" or text[-1:] != "'" -%}
        {{ exceptions.raise_compiler_error("expected a SQL string literal, got " ~ literal) }}
    {%- endif -%}
    {{- text[1:-1] | replace("''", "'") -}}
{%- endmacro %}

{#- A model's SQL string literal re-spelled for Spark (backslashes kept). -#}
{% macro spark_relit(literal) -%}
    {{- spark_literal(spark_unquote(literal)) -}}
{%- endmacro %}

{% macro spark__type_double() -%}double{%- endmacro %}

{% macro spark__regex_extract(expr, pattern, group) -%}
    regexp_extract({{ expr }}, {{ spark_relit(pattern) }}, {{ group }})
{%- endmacro %}

{% macro spark__regex_extract_each(expr, pattern, group) -%}
    explode(regexp_extract_all({{ expr }}, {{ spark_relit(pattern) }}, {{ group }}))
{%- endmacro %}

{% macro spark__explode(array_expr) -%}
    explode({{ array_expr }})
{%- endmacro %}

{#- Spark's `split` takes a regex: the delimiter is quoted (\Q…\E); -1 keeps trailing empty strings. -#}
{% macro spark__split_to_array(text, delimiter) -%}
    split({{ text }}, {{ spark_literal('\\Q' ~ spark_unquote(delimiter) ~ '\\E') }}, -1)
{%- endmacro %}

{% macro spark__split_words(text) -%}
    case
        when trim({{ text }}) = '' then cast(array() as array<string>)
        else split(trim({{ text }}), {{ spark_literal('\\s+') }})
    end
{%- endmacro %}

{% macro spark__array_size(array_expr) -%}
    array_size({{ array_expr }})
{%- endmacro %}

{% macro spark__has_prefix(expr, prefix) -%}
    startswith({{ expr }}, {{ prefix }})
{%- endmacro %}

{#- `max_by` / `min_by`, over the rows where value and order are both non-NULL (as DuckDB's arg_max). -#}
{% macro spark__arg_extreme(value, order_by, where, extreme) -%}
    {{ extreme }}_by({{ value }}, {{ order_by }})
        filter (where {{ value }} is not null and {{ order_by }} is not null{% if where %} and ({{ where }}){% endif %})
{%- endmacro %}

{% macro spark__any_value(expr) -%}
    any_value({{ expr }}, true)
{%- endmacro %}

{% macro spark__json_extract_text(json_text, path) -%}
    get_json_object({{ json_text }}, '{{ path }}')
{%- endmacro %}

{% macro spark__hash_bigint(expr) -%}
    (xxhash64(cast({{ expr }} as string)) & 9223372036854775807)
{%- endmacro %}

{#- Spark's `to_json` drops NULL fields unless told not to (DuckDB's `json_object` keeps them). -#}
{% macro spark__json_object_text(pairs) -%}
    to_json(named_struct({{ pairs | join(', ') }}), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- Java regexes take inline flags such as `(?i)` anywhere, so the anchored group keeps them. -#}
{% macro spark__full_match(expr, pattern_expr) -%}
    coalesce({{ expr }} rlike concat('^(?:', {{ pattern_expr }}, ')$'), false)
{%- endmacro %}

{% macro spark__days_between(relation, start_date, end_date, keep, day_column) -%}
    select
        {% for column in keep %}{{ column }},{% endfor %}
        explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day))
            as {{ day_column }}
    from {{ relation }}
{%- endmacro %}

{#- dbt-spark's listagg drops the order; Spark 4 has the standard `listagg ... within group (order by ...)`. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not implemented on Spark in this project") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{#- dbt-spark adds a contract's constraints (`alter table … set not null`) unless `file_format` is set to something
    other than delta — but an unset `file_format` gives a parquet table here, which cannot hold them. Only Delta
    tables (`+file_format: delta`) get them; elsewhere the `not_null` data tests check the same columns. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if config.get('contract').enforced and config.get('file_format') == 'delta' -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
    {%- endif -%}
{% endmacro %}

{% macro spark__explode_with_position(array_expr, value_alias, position_alias) -%}
    inline(transform({{ array_expr }}, (element, position) -> named_struct(
        '{{ value_alias }}', element, '{{ position_alias }}', position + 1
    )))
{%- endmacro %}

{#- Spark's recursive CTEs take only `union all` (see recursive_union in cross_database.sql). -#}
{% macro spark__recursive_union() -%}union all{%- endmacro %}

{#- Spark resolves no outer column two subqueries deep (dora_tier's scalar subquery holds this one): an
    uncorrelated `in` instead. -#}
{% macro spark__lacks_team_benchmark(benchmarks, metric, team_expr) -%}
    not coalesce({{ team_expr }} in (
        select team_benchmark.team
        from {{ benchmarks }} as team_benchmark
        where team_benchmark.report_year = {{ var('dora_report_year') }}
            and team_benchmark.metric = '{{ metric }}'
            and team_benchmark.team is not null
    ), false)
{%- endmacro %}
