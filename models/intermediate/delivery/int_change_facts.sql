with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

change_deployments as (
    select * from {{ ref('int_change_deployments') }}
),

merged as (
    select * from pull_requests where merged_at is not null
),

final as (
    select
        -- ids
        merged.pull_request_key,
        merged.repository,
        merged.team,
        merged.pull_request_number as number,
        merged.author_key,
        change_deployments.deployment_id,
        change_deployments.link_method as deployment_link_method,
        -- timestamps
        merged.first_commit_at,
        merged.opened_at,
        merged.first_review_at,
        merged.approved_at,
        merged.merged_at,
        change_deployments.deployed_at,
        -- stage hours (a negative span is NULL)
        {{ hours_between('merged.first_commit_at', 'merged.opened_at') }} as coding_hours,
        {{ hours_between('merged.opened_at', 'merged.first_review_at') }} as pickup_hours,
        {{ hours_between('merged.first_review_at', 'merged.merged_at') }} as review_hours,
        {{ hours_between('merged.merged_at', 'change_deployments.deployed_at') }} as deploy_hours,
        {{ hours_between('merged.first_commit_at', 'change_deployments.deployed_at') }} as lead_time_hours,
        -- measures
        merged.size_lines,
        merged.changed_files,
        merged.commit_count,
        -- flags
        merged.is_revert,
        merged.is_hotfix,
        -- lineage
        merged.source_system
    from merged
    left join change_deployments
        on merged.pull_request_key = change_deployments.pull_request_key
)

select * from final
