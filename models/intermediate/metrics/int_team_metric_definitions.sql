{{ config(materialized='incremental', unique_key='metric_name', on_schema_change='fail', full_refresh=false) }}
-- One row per team-defined metric (a MetricFlow metric in a file under metrics/, docs/architecture.md §9a) this
-- warehouse's builds have ever seen: its team, file and a hash of its definition, the day a build first saw it and
-- the day a build first saw its current definition. Incremental and never fully refreshed (`full_refresh=false`):
-- the history lives in this table; a metric whose file is gone stays, with `is_current = false`.
with

current_definitions as (
    {{ team_metric_definitions() }}
),

{% if is_incremental() %}
previous_definitions as (
    select * from {{ this }}
),
{% else %}
previous_definitions as (
    select
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as metric_name,
        cast(null as {{ dbt.type_string() }}) as defined_in,
        cast(null as {{ dbt.type_string() }}) as definition_hash,
        cast(null as date) as first_defined_at,
        cast(null as date) as last_changed_at,
        cast(null as boolean) as is_current
    where 1 = 0
),
{% endif %}

final as (
    select
        -- ids
        coalesce(current_definitions.metric_name, previous_definitions.metric_name) as metric_name,
        coalesce(current_definitions.team, previous_definitions.team) as team,
        -- definition
        coalesce(current_definitions.defined_in, previous_definitions.defined_in) as defined_in,
        coalesce(current_definitions.definition_hash, previous_definitions.definition_hash) as definition_hash,
        -- history (the build's day: var as_of_date, else today)
        coalesce(previous_definitions.first_defined_at, {{ as_of_date() }}) as first_defined_at,
        case
            when current_definitions.metric_name is null then previous_definitions.last_changed_at
            when previous_definitions.definition_hash = current_definitions.definition_hash
                then previous_definitions.last_changed_at
            else {{ as_of_date() }}
        end as last_changed_at,
        current_definitions.metric_name is not null as is_current
    from current_definitions
    full outer join previous_definitions
        on current_definitions.metric_name = previous_definitions.metric_name
)

select * from final
