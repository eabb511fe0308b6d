-- One row per CI build (GitHub Actions run, GitLab pipeline, Jenkins build) with its repository's team and
-- whether it re-ran a pipeline on a commit, and whether that re-run turned a failure into a success (flaky).
with

builds as (
    select * from {{ ref('int_builds') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

-- the build before this one of the same pipeline on the same commit (none without a SHA)
sequenced as (
    select
        *,
        case
            when sha is not null then lag(status) over (
                partition by source_system, repository, build_name, sha
                order by created_at, build_key
            )
        end as previous_status
    from builds
),

final as (
    select
        -- ids
        sequenced.build_key,
        sequenced.build_id,
        coalesce(repositories.team, 'unassigned') as team,
        sequenced.repository,
        sequenced.build_name as pipeline_name,
        sequenced.sha,
        sequenced.ref,
        -- status
        sequenced.status,
        sequenced.attempt,
        sequenced.attempt > 1 or coalesce(sequenced.previous_status in ('failure', 'cancelled'), false)
            as is_rerun,
        sequenced.status = 'success'
            and (sequenced.attempt > 1 or coalesce(sequenced.previous_status = 'failure', false))
            as is_flaky_rerun,
        sequenced.is_deployment,
        -- timestamps
        sequenced.created_at,
        sequenced.started_at,
        sequenced.finished_at,
        -- measures
        cast(sequenced.duration_seconds as {{ type_double() }}) / 60 as duration_minutes,
        -- lineage
        sequenced.source_system
    from sequenced
    left join repositories
        on sequenced.repository = repositories.repository
)

select * from final
