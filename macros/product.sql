{#- Product analytics helpers. -#}

{#- One row per day from `start_date` to `end_date` (date expressions of `relation`'s columns), as `day_column`,
    alongside the other columns named in `keep`. -#}
{% macro days_between(relation, start_date, end_date, keep, day_column='metric_date') -%}
    {{ return(adapter.dispatch('days_between', 'yardstick')(relation, start_date, end_date, keep, day_column)) }}
{%- endmacro %}

{% macro default__days_between(relation, start_date, end_date, keep, day_column) -%}
    select
        {% for column in keep %}{{ column }},{% endfor %}
        cast(unnest(generate_series(
            cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
        )) as date) as {{ day_column }}
    from {{ relation }}
{%- endmacro %}

{% macro postgres__days_between(relation, start_date, end_date, keep, day_column) -%}
    select
        {% for column in keep %}{{ column }},{% endfor %}
        cast(generate_series(
            cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day'
        ) as date) as {{ day_column }}
    from {{ relation }}
{%- endmacro %}

{#- A numeric property of an event's JSON `properties` text, NULL when absent or not a number. -#}
{% macro event_property_number(properties, name) -%}
    {{ try_cast_double(json_extract_text(properties, '$.' ~ name)) }}
{%- endmacro %}
