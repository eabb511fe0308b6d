{#- Every match of the regular expression `pattern` (a var value) in `expr`, one row each: a set-returning
    select-list expression, so the select it sits in yields one row per match (none for NULL text). -#}
{% macro regex_mentions(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_mentions', 'yardstick')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_mentions(expr, pattern) -%}
    (regexp_matches({{ expr }}, '{{ pattern | replace("'", "''") }}', 'g'))[1]
{%- endmacro %}

{% macro duckdb__regex_mentions(expr, pattern) -%}
    unnest(regexp_extract_all({{ expr }}, '{{ pattern | replace("'", "''") }}'))
{%- endmacro %}

{% macro spark__regex_mentions(expr, pattern) -%}
    explode(regexp_extract_all({{ expr }}, '{{ pattern | replace("'", "''") }}', 0))
{%- endmacro %}
