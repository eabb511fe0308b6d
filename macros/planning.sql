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

{#- The sprint ids of every change of Jira's sprint field (`from` / `to`: comma-separated ids), one row per change,
    side (`before` / `after`) and sprint id: a select over `changes` (stg_jira__issue_changelog_items), for an
    equality join to the sprints (matching each id in the text against every sprint is issues × sprints). -#}
{% macro sprint_change_ids(changes) -%}
    select distinct
        issue_id,
        history_id,
        item_index,
        changed_at,
        side,
        trim(item) as sprint_id
    from (
        {%- for side, column in [('before', 'from_value'), ('after', 'to_value')] %}
        select
            issue_id,
            history_id,
            item_index,
            changed_at,
            '{{ side }}' as side,
            {{ explode(split_to_array("coalesce(" ~ column ~ ", '')", "','")) }} as item
        from {{ changes }}
        where field_id = 'customfield_10020' or lower(field_name) = 'sprint'
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as sprint_change_items
    where trim(item) <> ''
{%- endmacro %}
