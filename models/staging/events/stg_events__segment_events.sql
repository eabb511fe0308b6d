{%- set key = 'event_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('events', 'segment_events') }}
),

renamed as (
    select
        -- ids
        cast(message_id as {{ dbt.type_string() }}) as event_id,
        'segment' as source_system,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(anonymous_id as {{ dbt.type_string() }}) as anonymous_id,
        cast(session_id as {{ dbt.type_string() }}) as tracker_session_id,
        case when type in ('page', 'screen') then message_id end as page_view_id,
        -- what happened
        case when type = 'screen' then 'page' else type end as event_type,
        case when type = 'track' then event else coalesce(name, page_title, page_path) end as event_name,
        -- timestamps: Segment's clock-skew correction when the sender's clock is known
        coalesce(
            {{ to_utc(adapter.quote('timestamp')) }},
            {{ to_utc('received_at') }} - ({{ to_utc('sent_at') }} - {{ to_utc('original_timestamp') }}),
            {{ to_utc('original_timestamp') }},
            {{ to_utc('received_at') }}
        ) as event_at,
        {{ to_utc('received_at') }} as received_at,
        -- page
        page_path,
        page_url,
        page_title,
        page_referrer,
        -- segments
        lower(platform) as platform,
        coalesce(
            browser,
            case
                when user_agent ilike '%edg/%' then 'Edge'
                when user_agent ilike '%firefox/%' then 'Firefox'
                when user_agent ilike '%chrome/%' then 'Chrome'
                when user_agent ilike '%safari/%' then 'Safari'
            end
        ) as browser,
        upper(country) as country,
        app_version,
        plan,
        -- payload
        properties,
        -- load metadata
        source_file,
        source_line,
        _dlt_load_id as loaded_by
    from source
),

-- every version of the keys with a version loaded since the last build (all of them on a full build)
versions as (
    {{ versions_loaded_since('renamed', key) }}
),

deduplicated as (
    {{ dedupe('versions', key, 'received_at nulls last, loaded_by, source_file, source_line') }}
)

select * from deduplicated
