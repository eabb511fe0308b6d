{#- The date goals are judged at: var `as_of_date` (ISO date, for tests and replays) or today (UTC). -#}
{#- Every model that calls it is tagged `as_of_date`: with the var blank, a nightly on a new day rebuilds those
    (`tag:as_of_date+`, yardstick/build_state.py) even when no raw data reached them. -#}
{% macro as_of_date() -%}
    {%- do config(tags=['as_of_date']) -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(current_date as date)
    {%- endif -%}
{%- endmacro %}

{#- A date column of the goal seeds (metric_targets, improvement_actions) moved by var `goal_date_shift_days`
    (0 = as written). The demo sets it to the days between the day its goals were written for and its own end
    date, so its goals sit where its data ends and every status shows on any day. -#}
{% macro goal_date(column) -%}
    {%- set shift = var('goal_date_shift_days', 0) | int -%}
    {%- if shift == 0 -%}
        cast({{ column }} as date)
    {%- else -%}
        cast({{ dbt.dateadd('day', shift, 'cast(' ~ column ~ ' as date)') }} as date)
    {%- endif -%}
{%- endmacro %}

{#- The goals of seed metric_targets with their dates moved by `goal_date` (a whole select statement). -#}
{% macro goal_targets() -%}
    select
        goal_id,
        team,
        metric,
        baseline,
        target,
        {{ goal_date('start_date') }} as start_date,
        {{ goal_date('due_date') }} as due_date,
        owner_role,
        {{ goal_date('reviewed_on') }} as reviewed_on
    from {{ ref('metric_targets') }}
{%- endmacro %}
