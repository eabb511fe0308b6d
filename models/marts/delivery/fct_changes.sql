-- The published fact: int_change_facts (models/intermediate/delivery/), under an enforced contract. Goals and the
-- intermediate layer read int_change_facts; BI tools, the report and the semantic layer read this.
with

change_facts as (
    select * from {{ ref('int_change_facts') }}
),

final as (
    select
        pull_request_key,
        repository,
        team,
        number,
        author_key,
        deployment_id,
        deployment_link_method,
        first_commit_at,
        opened_at,
        first_review_at,
        approved_at,
        merged_at,
        deployed_at,
        coding_hours,
        pickup_hours,
        review_hours,
        deploy_hours,
        lead_time_hours,
        size_lines,
        changed_files,
        commit_count,
        is_revert,
        is_hotfix,
        source_system
    from change_facts
)

select * from final
