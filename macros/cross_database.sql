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
            then cast({{ dbt.datediff(start_at, end_at, 'second') }} as double) / 3600
    end
{%- endmacro %}

{#- True when `expr` matches the regular expression `pattern` (a var value); NULL text never matches. -#}
{% macro matches(expr, pattern) -%}
    {{ return(adapter.dispatch('matches', 'yardstick')(expr, pattern)) }}
{%- endmacro %}

{% macro default__matches(expr, pattern) -%}
    coalesce(regexp_like({{ expr }}, '{{ pattern | replace("'", "''") }}'), false)
{%- endmacro %}

{% macro duckdb__matches(expr, pattern) -%}
    coalesce(regexp_matches({{ expr }}, '{{ pattern | replace("'", "''") }}'), false)
{%- endmacro %}

{#- A person's key in marts: a salted md5 of the login, or the login itself when `expose_individuals`. -#}
{% macro person_key(login) -%}
    {%- if var('expose_individuals', false) -%}
        cast({{ login }} as varchar)
    {%- else -%}
        case when {{ login }} is not null
            then md5('{{ var("person_salt", "yardstick") }}:' || {{ login }})
        end
    {%- endif -%}
{%- endmacro %}

{#- Start of the UTC period (`week` = ISO week from Monday, `month`) of a timestamp, as a date. -#}
{% macro period_start(period, ts) -%}
    cast({{ dbt.date_trunc(period, ts) }} as date)
{%- endmacro %}
