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
)

select * from final
