{%- set staging = ['stg_pagerduty__incidents', 'stg_pagerduty__log_entries'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='incident_id',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
-- Incremental: an incident is recomputed when it or one of its log entries was loaded since the last run (an
-- incident resolved or annotated later), or when its service now maps to another repository or team.
with

incidents as (
    select * from {{ ref('stg_pagerduty__incidents') }}
),

log_entries as (
    select * from {{ ref('stg_pagerduty__log_entries') }}
),

services as (
    select * from {{ ref('int_services') }}
),

log_summary as (
    select
        incident_id,
        min(case when log_entry_type = 'acknowledge_log_entry' then created_at end) as first_acknowledged_at,
        max(case when log_entry_type = 'resolve_log_entry' then created_at end) as resolve_logged_at,
        {{ dbt.listagg(
            "case when log_entry_type = 'annotate_log_entry' then coalesce(channel_summary, summary) end",
            "' '", 'order by created_at'
        ) }} as notes
    from log_entries
    group by incident_id
),

{%- if is_incremental() %}
{%- set since = incremental_since() %}

changed as (
    {{ loaded_since(ref('stg_pagerduty__incidents'), 'incident_id', since) }}
    union
    {{ loaded_since(ref('stg_pagerduty__log_entries'), 'incident_id', since) }}
    union
    select existing.incident_id
    from {{ this }} as existing
    left join services
        on existing.service = services.service
    where existing.repository is distinct from services.repository
        or existing.team is distinct from coalesce(services.team, 'unassigned')
),
{%- endif %}

final as (
    select
        -- ids
        incidents.incident_id,
        incidents.incident_number,
        incidents.service_id,
        incidents.service_name as service,
        services.repository,
        coalesce(services.team, 'unassigned') as team,
        -- text
        incidents.title,
        incidents.status,
        incidents.urgency,
        concat_ws(' ', incidents.title, incidents.description, log_summary.notes) as reference_text,
        -- timestamps
        incidents.created_at as started_at,
        log_summary.first_acknowledged_at as acknowledged_at,
        case
            when incidents.status = 'resolved'
                then coalesce(log_summary.resolve_logged_at, incidents.resolved_at, incidents.last_status_change_at)
        end as resolved_at,
        -- lineage
        'pagerduty' as source_system
    from incidents
    left join log_summary
        on incidents.incident_id = log_summary.incident_id
    left join services
        on incidents.service_name = services.service
    {%- if is_incremental() %}
    where incidents.incident_id in (select * from changed)
    {%- endif %}
)

select * from final
