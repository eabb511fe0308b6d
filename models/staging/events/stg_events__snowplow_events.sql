{%- set key = 'event_id' %}
{{ config(materialized=staging_materialization(), unique_key=key.split(', ')) }}
with

source as (
    select * from {{ source('events', 'snowplow_events') }}
),

renamed as (
    select
        -- ids
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        'snowplow' as source_system,
        user_id,
        domain_userid as anonymous_id,
        domain_sessionid as tracker_session_id,
        domain_sessionidx as tracker_session_index,
        coalesce(
            {{ json_extract_text('contexts_com_snowplowanalytics_snowplow_web_page_1_0_0', '$[0].id') }},
            {{ json_extract_text('contexts_com_snowplowanalytics_snowplow_web_page_1_0_0', '$[0][0].id') }}
        ) as page_view_id,
        -- what happened
        case event
            when 'page_view' then 'page'
            when 'page_ping' then 'ping'
            else 'track'
        end as event_type,
        case event
            when 'page_view' then coalesce(page_title, page_urlpath)
            when 'struct' then coalesce(se_action, se_category, event_name)
            else coalesce(event_name, event)
        end as event_name,
        -- timestamps
        coalesce({{ to_utc('derived_tstamp') }}, {{ to_utc('collector_tstamp') }}) as event_at,
        {{ to_utc('collector_tstamp') }} as received_at,
        {{ to_utc('dvce_created_tstamp') }} as device_created_at,
        -- page
        page_urlpath as page_path,
        page_url,
        page_title,
        page_referrer,
        -- segments
        lower(coalesce(dvce_type, platform)) as platform,
        br_family as browser,
        upper(geo_country) as country,
        cast(null as {{ dbt.type_string() }}) as app_version,
        cast(null as {{ dbt.type_string() }}) as plan,
        -- payload
        case
            when se_value is not null
                then {{ json_object_text(["'category'", 'se_category', "'label'", 'se_label', "'property'",
                                          'se_property', "'value'", try_cast_double('se_value')]) }}
        end as properties,
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
    -- Snowplow delivers at least once: keep the first collected copy of each event id
    {{ dedupe(
        'versions', key, 'received_at, device_created_at nulls last, loaded_by, source_file, source_line'
    ) }}
)

select * from deduplicated
