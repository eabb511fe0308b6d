{#- Planning helpers for rules whose regular expression is a column (seeds), not a var. -#}

{#- True when the regular expression in `pattern` (an expression) is found in `text`; NULL text never matches. -#}
{% macro regex_found(text, pattern) -%}
    {{ return(adapter.dispatch('regex_found', 'yardstick')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_found(text, pattern) -%}
    coalesce({{ text }} ~ {{ pattern }}, false)
{%- endmacro %}

{% macro duckdb__regex_found(text, pattern) -%}
    coalesce(regexp_matches({{ text }}, {{ pattern }}), false)
{%- endmacro %}

{% macro spark__regex_found(text, pattern) -%}
    coalesce({{ text }} rlike {{ pattern }}, false)
{%- endmacro %}

{#- True when the regular expression in `pattern` is found in any one of the space-separated `labels`. -#}
{% macro any_label_matches(labels, pattern) -%}
    {{ return(adapter.dispatch('any_label_matches', 'yardstick')(labels, pattern)) }}
{%- endmacro %}

{% macro default__any_label_matches(labels, pattern) -%}
    coalesce(exists (
        select 1 from regexp_split_to_table({{ labels }}, ' ') as label (value) where label.value ~ {{ pattern }}
    ), false)
{%- endmacro %}

{% macro duckdb__any_label_matches(labels, pattern) -%}
    coalesce(len(list_filter(string_split({{ labels }}, ' '), label -> regexp_matches(label, {{ pattern }}))) > 0, false)
{%- endmacro %}

{% macro spark__any_label_matches(labels, pattern) -%}
    coalesce(exists(split({{ labels }}, ' '), label -> label rlike {{ pattern }}), false)
{%- endmacro %}
