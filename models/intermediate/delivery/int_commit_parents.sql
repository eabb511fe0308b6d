-- The commit graph's edges: one row per commit and parent, the input of the change ↔ deployment walk.
with

commits as (
    select * from {{ ref('int_commits') }}
),

edges as (
    select
        repository,
        sha,
        {{ explode_with_position('parent_shas', 'parent_sha', 'parent_position') }},
        source_system
    from commits
),

final as (
    select
        -- ids
        repository,
        sha,
        parent_sha,
        -- graph
        parent_position,
        -- lineage
        source_system
    from edges
)

select * from final
