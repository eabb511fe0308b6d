{#- The date goals are judged at: var `as_of_date` (ISO date, for tests and replays) or today (UTC). -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(current_date as date)
    {%- endif -%}
{%- endmacro %}
