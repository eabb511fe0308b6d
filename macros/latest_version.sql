{#-
    Staging's dedupe: keep the latest version of each record of `relation` (a CTE name) — the one with the
    newest `version_column`, then the latest load — so a record loaded twice counts once.
-#}
{% macro latest_version(relation, key, version_column) -%}
    {{ dedupe(relation, key, version_column ~ ' desc nulls last, loaded_by desc') }}
{%- endmacro %}
