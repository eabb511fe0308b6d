{#- Cross-database helpers. Every adapter-specific spelling lives here so models stay portable. -#}

{#- A timestamp with time zone (or a naive UTC timestamp) as a naive UTC `timestamp`. -#}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'yardstick')(column)) }}
{%- endmacro %}

{% macro default__to_utc(column) -%}
    cast(({{ column }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__to_utc(column) -%}
    cast(timezone('UTC', cast({{ column }} as timestamptz)) as timestamp)
{%- endmacro %}

{#- Continuous percentile (median = 0.5) of an expression: the one place medians and p75s are spelled. -#}
{% macro percentile(expr, p) -%}
    percentile_cont({{ p }}) within group (order by {{ expr }})
{%- endmacro %}

{#- Hours from `start_at` to `end_at`, NULL when either is NULL or the span is negative. -#}
{% macro hours_between(start_at, end_at) -%}
    case
        when {{ end_at }} >= {{ start_at }}
            then cast({{ dbt.datediff(start_at, end_at, 'second') }} as {{ type_double() }}) / 3600
    end
{%- endmacro %}

{#- True when `expr` matches the regular expression `pattern` (a var value); NULL text never matches. -#}
{% macro matches(expr, pattern) -%}
    {{ return(adapter.dispatch('matches', 'yardstick')(expr, pattern)) }}
{%- endmacro %}

{% macro default__matches(expr, pattern) -%}
    coalesce(regexp_like({{ expr }}, '{{ pattern | replace("'", "''") }}'), false)
{%- endmacro %}

{% macro postgres__matches(expr, pattern) -%}
    coalesce({{ expr }} ~ '{{ _postgres_regex(pattern) | replace("'", "''") }}', false)
{%- endmacro %}

{% macro duckdb__matches(expr, pattern) -%}
    coalesce(regexp_matches({{ expr }}, '{{ pattern | replace("'", "''") }}'), false)
{%- endmacro %}

{#- A person's key in marts: HMAC-SHA256 of the login under the secret person key (yardstick/person_key.py), or
    the login itself when `expose_individuals`. The key is never in SQL text: the session holds its RFC 2104
    inner and outer padded keys (DuckDB variables set by yardstick.dbt_plugin; PostgreSQL custom settings from
    PGOPTIONS), and HMAC = sha256(opad || sha256(ipad || login)), lower-case hex, the same in every database. -#}
{% macro person_key(login) -%}
    {%- if var('expose_individuals', false) -%}
        cast({{ login }} as {{ dbt.type_string() }})
    {%- else -%}
        case when {{ login }} is not null
            then {{ adapter.dispatch('hmac_person_key', 'yardstick')('cast(' ~ login ~ ' as ' ~ dbt.type_string() ~ ')') }}
        end
    {%- endif -%}
{%- endmacro %}

{% macro default__hmac_person_key(login) -%}
    encode(sha256(
        decode(current_setting('yardstick.person_key_opad'), 'hex')
        || sha256(decode(current_setting('yardstick.person_key_ipad'), 'hex') || convert_to({{ login }}, 'UTF8'))
    ), 'hex')
{%- endmacro %}

{#- Spark: the padded keys are session confs (profiles.yml `spark.yardstick.person_key_*`), substituted by Spark
    itself after dbt has logged the SQL. -#}
{% macro spark__hmac_person_key(login) -%}
    sha2(concat(
        unhex('${spark.yardstick.person_key_opad}'),
        unhex(sha2(concat(unhex('${spark.yardstick.person_key_ipad}'), encode({{ login }}, 'UTF-8')), 256))
    ), 256)
{%- endmacro %}

{% macro duckdb__hmac_person_key(login) -%}
    sha256(
        coalesce(getvariable('yardstick_person_key_opad'), cast(error('person key not set: the dbt-duckdb plugin yardstick.dbt_plugin sets it') as blob))
        || unhex(sha256(getvariable('yardstick_person_key_ipad') || encode({{ login }})))
    )
{%- endmacro %}

{#- Start of the UTC period (`week` = ISO week from Monday, `month`) of a timestamp, as a date. -#}
{% macro period_start(period, ts) -%}
    cast({{ dbt.date_trunc(period, ts) }} as date)
{%- endmacro %}

{#- ===== Portability: DuckDB / PostgreSQL spellings (a Spark helper adds `spark__` variants elsewhere). ===== -#}

{#- A double-precision float type for casts and contracts (`double` in DuckDB, `double precision` elsewhere). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'yardstick')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}

{% macro duckdb__type_double() -%}double{%- endmacro %}

{#- A regular expression written in RE2 / Java syntax in PostgreSQL's (ARE) spelling: `\b` is `\y` there. -#}
{% macro _postgres_regex(pattern) -%}
    {{- pattern | replace('\\b', '\\y') -}}
{%- endmacro %}

{#- Keep one row per `partition_by` (a comma-separated column list of the CTE `relation`): the first in
    `order_by`. A whole select statement; columns unchanged. -#}
{% macro dedupe(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('dedupe', 'yardstick')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__dedupe(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ partition_by }}
        order by {{ order_by }}
    ) = 1
{%- endmacro %}

{% macro postgres__dedupe(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}

{#- The `group`-th capture group (0 = the whole match) of the first match of `pattern` (a SQL string literal,
    RE2 syntax) in `expr`; '' when nothing matches (DuckDB's `regexp_extract`). -#}
{% macro regex_extract(expr, pattern, group=0) -%}
    {{ return(adapter.dispatch('regex_extract', 'yardstick')(expr, pattern, group)) }}
{%- endmacro %}

{% macro default__regex_extract(expr, pattern, group) -%}
    regexp_extract({{ expr }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{% macro postgres__regex_extract(expr, pattern, group) -%}
    {%- if group == 0 -%}
        coalesce(substring({{ expr }} from {{ _postgres_regex(pattern) }}), '')
    {%- else -%}
        coalesce((regexp_match({{ expr }}, {{ _postgres_regex(pattern) }}))[{{ group }}], '')
    {%- endif -%}
{%- endmacro %}

{#- Every match of `pattern` (SQL string literal, RE2 syntax) in `expr`, one output row each: a set-returning
    expression for a select list (capture group `group`; 0 = the whole match, for patterns without groups). -#}
{% macro regex_extract_each(expr, pattern, group=0) -%}
    {{ return(adapter.dispatch('regex_extract_each', 'yardstick')(expr, pattern, group)) }}
{%- endmacro %}

{% macro default__regex_extract_each(expr, pattern, group) -%}
    unnest(regexp_extract_all({{ expr }}, {{ pattern }}, {{ group }}))
{%- endmacro %}

{% macro postgres__regex_extract_each(expr, pattern, group) -%}
    (regexp_matches({{ expr }}, {{ _postgres_regex(pattern) }}, 'g'))[{{ [group, 1] | max }}]
{%- endmacro %}

{#- Every element of the array `array_expr`, one output row each: a set-returning expression for a select list. -#}
{% macro explode(array_expr) -%}
    {{ return(adapter.dispatch('explode', 'yardstick')(array_expr)) }}
{%- endmacro %}

{% macro default__explode(array_expr) -%}
    unnest({{ array_expr }})
{%- endmacro %}

{#- `text` split on the literal `delimiter` into an array of strings. -#}
{% macro split_to_array(text, delimiter) -%}
    {{ return(adapter.dispatch('split_to_array', 'yardstick')(text, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_array(text, delimiter) -%}
    string_to_array({{ text }}, {{ delimiter }})
{%- endmacro %}

{% macro duckdb__split_to_array(text, delimiter) -%}
    string_split({{ text }}, {{ delimiter }})
{%- endmacro %}

{#- The whitespace-separated words of `text` as an array of strings (empty for blank text). -#}
{% macro split_words(text) -%}
    {{ return(adapter.dispatch('split_words', 'yardstick')(text)) }}
{%- endmacro %}

{% macro default__split_words(text) -%}
    case
        when trim({{ text }}) = '' then cast(array[] as {{ dbt.type_string() }}[])
        else regexp_split_to_array(trim({{ text }}), '\s+')
    end
{%- endmacro %}

{% macro duckdb__split_words(text) -%}
    case
        when trim({{ text }}) = '' then cast([] as varchar[])
        else regexp_split_to_array(trim({{ text }}), '\s+')
    end
{%- endmacro %}

{#- Number of elements of an array (NULL for a NULL array). -#}
{% macro array_size(array_expr) -%}
    {{ return(adapter.dispatch('array_size', 'yardstick')(array_expr)) }}
{%- endmacro %}

{% macro default__array_size(array_expr) -%}
    cardinality({{ array_expr }})
{%- endmacro %}

{% macro duckdb__array_size(array_expr) -%}
    len({{ array_expr }})
{%- endmacro %}

{#- True when the text `expr` starts with the text `prefix`. -#}
{% macro has_prefix(expr, prefix) -%}
    {{ return(adapter.dispatch('has_prefix', 'yardstick')(expr, prefix)) }}
{%- endmacro %}

{% macro default__has_prefix(expr, prefix) -%}
    starts_with({{ expr }}, {{ prefix }})
{%- endmacro %}

{#- Aggregate: `value` at the row with the smallest (`arg_min`) / largest (`arg_max`) `order_by`, ignoring rows
    where either is NULL; `where` (optional SQL condition) restricts the rows as an aggregate filter. -#}
{% macro arg_min(value, order_by, where=none) -%}
    {{ return(adapter.dispatch('arg_extreme', 'yardstick')(value, order_by, where, 'min')) }}
{%- endmacro %}

{% macro arg_max(value, order_by, where=none) -%}
    {{ return(adapter.dispatch('arg_extreme', 'yardstick')(value, order_by, where, 'max')) }}
{%- endmacro %}

{% macro default__arg_extreme(value, order_by, where, extreme) -%}
    arg_{{ extreme }}({{ value }}, {{ order_by }}){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{% macro postgres__arg_extreme(value, order_by, where, extreme) -%}
    (array_agg({{ value }} order by {{ order_by }} {{ 'asc' if extreme == 'min' else 'desc' }})
        filter (where {{ value }} is not null and {{ order_by }} is not null
            {%- if where %} and ({{ where }}){% endif %}))[1]
{%- endmacro %}

{#- Aggregate: any one non-NULL value of `expr` in the group (for columns constant within it). -#}
{% macro any_value(expr) -%}
    {{ return(adapter.dispatch('any_value', 'yardstick')(expr)) }}
{%- endmacro %}

{% macro default__any_value(expr) -%}
    any_value({{ expr }})
{%- endmacro %}

{% macro postgres__any_value(expr) -%}
    min({{ expr }})
{%- endmacro %}

{#- A text as a double, NULL when it is not a number (DuckDB's `try_cast(... as double)`). -#}
{% macro try_cast_double(expr) -%}
    {{ return(adapter.dispatch('try_cast_double', 'yardstick')(expr)) }}
{%- endmacro %}

{% macro default__try_cast_double(expr) -%}
    try_cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{% macro postgres__try_cast_double(expr) -%}
    case
        when trim(cast({{ expr }} as text)) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
            then cast(trim(cast({{ expr }} as text)) as double precision)
    end
{%- endmacro %}

{#- The text at JSON path `path` ('$.a.b' or '$[0].id') of the JSON text `json_text`, NULL when absent. -#}
{% macro json_extract_text(json_text, path) -%}
    {{ return(adapter.dispatch('json_extract_text', 'yardstick')(json_text, path)) }}
{%- endmacro %}

{% macro default__json_extract_text(json_text, path) -%}
    json_extract_string({{ json_text }}, '{{ path }}')
{%- endmacro %}

{% macro postgres__json_extract_text(json_text, path) -%}
    {%- set steps = path[1:] | replace('[', '.') | replace(']', '') | trim('.') -%}
    jsonb_extract_path_text(cast({{ json_text }} as jsonb)
        {%- for step in steps.split('.') if step %}, '{{ step }}'{% endfor %})
{%- endmacro %}

{#- A stable non-negative bigint hash of a text (ids for records a tool gives no numeric id). -#}
{% macro hash_bigint(expr) -%}
    {{ return(adapter.dispatch('hash_bigint', 'yardstick')(expr)) }}
{%- endmacro %}

{% macro default__hash_bigint(expr) -%}
    cast(hash({{ expr }}) >> 1 as bigint)
{%- endmacro %}

{% macro postgres__hash_bigint(expr) -%}
    (hashtextextended(cast({{ expr }} as text), 0) & 9223372036854775807)
{%- endmacro %}

{#- PostgreSQL: a contract's `varchar` and the `text` a string expression yields are the same type there (no
    length limit either way), so compare them as one; every other type is compared as dbt does. -#}
{% macro postgres__format_column(column) -%}
    {%- set data_type = 'varchar' if column.dtype | lower in ('text', 'character varying') else column.dtype -%}
    {{ return({'name': column.name, 'data_type': data_type, 'formatted': column.column.lower() ~ ' ' ~ data_type}) }}
{%- endmacro %}

{#- `union all by name` of `relations` (refs), each row tagged with its tool in `source_system` (the list
    `source_systems`, in the same order): every column of any relation (first seen first), NULL where a
    relation lacks it, less the columns named in `exclude`. -#}
{% macro union_by_name(relations, source_systems, exclude=[]) -%}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set names, types, per_relation = [], {}, [] -%}
    {%- for relation in relations -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- set present = [] -%}
        {%- for column in columns if column.name | lower not in exclude -%}
            {%- if column.name | lower not in names -%}
                {%- do names.append(column.name | lower) -%}
                {%- do types.update({column.name | lower: column.data_type}) -%}
            {%- endif -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
        {%- do per_relation.append(present) -%}
    {%- endfor -%}
    {%- for relation in relations %}
    {%- set present = per_relation[loop.index0] %}
    {% if not loop.first %}union all{% endif %}
    select
        {%- for name in names %}
        {% if name in present %}{{ name }}{% else %}cast(null as {{ types[name] }}){% endif %} as {{ name }},
        {%- endfor %}
        '{{ source_systems[loop.index0] }}' as source_system
    from {{ relation }}
    {%- endfor -%}
{%- endmacro %}

{#- A JSON object as text from alternating key / value SQL expressions (`pairs`: a list of strings). -#}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'yardstick')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_text(pairs) -%}
    cast(json_object({{ pairs | join(', ') }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__json_object_text(pairs) -%}
    cast(jsonb_build_object({{ pairs | join(', ') }}) as text)
{%- endmacro %}

{#- True when the whole of `expr` matches the regular expression in the SQL expression `pattern_expr` (e.g. a
    seed column); NULL text never matches. -#}
{% macro full_match(expr, pattern_expr) -%}
    {{ return(adapter.dispatch('full_match', 'yardstick')(expr, pattern_expr)) }}
{%- endmacro %}

{% macro default__full_match(expr, pattern_expr) -%}
    coalesce(regexp_full_match({{ expr }}, {{ pattern_expr }}), false)
{%- endmacro %}

{#- PostgreSQL takes embedded options such as `(?i)` only at the very start: a leading `(?i)` becomes `~*`. -#}
{% macro postgres__full_match(expr, pattern_expr) -%}
    coalesce(case
        when left({{ pattern_expr }}, 4) = '(?i)' then {{ expr }} ~* ('^(?:' || substr({{ pattern_expr }}, 5) || ')$')
        else {{ expr }} ~ ('^(?:' || {{ pattern_expr }} || ')$')
    end, false)
{%- endmacro %}

{#- Every element of the array `array_expr` with its 1-based position, one output row each, as the columns
    `value_alias` and `position_alias` (select-list items). DuckDB and PostgreSQL share the default. -#}
{% macro explode_with_position(array_expr, value_alias, position_alias) -%}
    {{ return(adapter.dispatch('explode_with_position', 'yardstick')(array_expr, value_alias, position_alias)) }}
{%- endmacro %}

{% macro default__explode_with_position(array_expr, value_alias, position_alias) -%}
    unnest({{ array_expr }}) as {{ value_alias }},
    generate_subscripts({{ array_expr }}, 1) as {{ position_alias }}
{%- endmacro %}

{#- The set operator of a recursive CTE's step that must visit each row once (`union`). Spark's recursive CTEs
    take only `union all`: there a row is visited once per path that reaches it, so a consumer must not count
    rows of the walk (int_change_deployments keeps the first deployment per change, which duplicates do not
    change). Paths multiply with merge commits between two deployments: fine at usual deployment cadences. -#}
{% macro recursive_union() -%}
    {{ return(adapter.dispatch('recursive_union', 'yardstick')()) }}
{%- endmacro %}

{% macro default__recursive_union() -%}union{%- endmacro %}
