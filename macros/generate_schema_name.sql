{#- Custom schema names are used verbatim (`staging`, `intermediate`, `marts`, `seeds`), without the
    target-schema prefix dbt adds by default. Nodes without a custom schema go to the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
