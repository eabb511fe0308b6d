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

{#- Each metric's day's value histogram: one row per (metric, metric_date, measure_value) with its number of
    observations, from the measures of `relation` that are values (not ratios), for `histogram_percentile`. -#}
{% macro measure_value_counts(relation) -%}
    select
        metric,
        metric_date,
        measure_value,
        count(*) as observations
    from {{ relation }}
    where aggregation <> 'ratio'
        and measure_value is not null
    group by metric, metric_date, measure_value
{%- endmacro %}

{#- `(0), (1), …, (n - 1)`: the rows of a `values` list of day offsets (portable: no generate_series). -#}
{% macro day_offsets(n) -%}
    {%- for offset in range(n) %}({{ offset }}){% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#- The continuous percentile `p` of each group's observations, given as a histogram: `relation` holds one row per
    group (the columns `group_by`) and distinct value (`value`) with how many observations have it (`count`, > 0).
    Equal to `percentile_cont(p) within group (order by value)` over the observations themselves, to the bit: the
    value at 0-based position floor((n − 1)·p) plus (position's fraction) × (the next position's value − it), as
    DuckDB's and PostgreSQL's percentile_cont compute it. A select statement: `group_by` and `percentile_value`.
    Rolling windows pool days of observations: adding up a day's counts of each value is linear in the days, where
    pooling the observations themselves repeats every observation once per window it falls in. -#}
{% macro histogram_percentile(relation, group_by, value, count, p) -%}
    select
        {% for column in group_by %}{{ column }},{% endfor %}
        min(case when running_count > floor(position) then {{ value }} end)
            + (min(case when running_count > ceil(position) then {{ value }} end)
               - min(case when running_count > floor(position) then {{ value }} end))
            * max(position - floor(position)) as percentile_value
    from (
        select
            {% for column in group_by %}{{ column }},{% endfor %}
            {{ value }},
            sum({{ count }}) over (
                partition by {{ group_by | join(', ') }} order by {{ value }}
                rows between unbounded preceding and current row
            ) as running_count,
            cast(sum({{ count }}) over (partition by {{ group_by | join(', ') }}) - 1 as {{ type_double() }})
                * {{ p }} as position
        from {{ relation }}
    ) as ranked
    group by {{ group_by | join(', ') }}
{%- endmacro %}
