-- One row per team and ISO week with merged pull requests (a PR belongs to the week it merged): how big PRs are
-- (median and p75 lines and files, counts per size bucket from var `pr_size_buckets`), how fast they are picked
-- up, and the shares merged unreviewed, self-merged or without an approval. Reviews by the PR's author never
-- count as a review; a review or approval after the merge does not count either.
with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
    where merged_at is not null
),

{%- set buckets = var('pr_size_buckets') %}

flags as (
    select
        team,
        {{ period_start('week', 'merged_at') }} as week_start,
        size_lines,
        changed_files,
        {{ hours_between('opened_at', 'first_review_at') }} as pickup_hours,
        first_review_at is null or first_review_at > merged_at as is_unreviewed,
        coalesce(merged_by_login = author_login, false) as is_self_merged,
        approved_at is null or approved_at > merged_at as is_merged_without_approval
    from pull_requests
),

final as (
    select
        -- ids
        team,
        week_start,
        -- volume
        count(*) as merged_prs,
        -- size
        cast({{ percentile('size_lines', 0.5) }} as {{ type_double() }}) as size_lines_median,
        cast({{ percentile('size_lines', 0.75) }} as {{ type_double() }}) as size_lines_p75,
        cast({{ percentile('changed_files', 0.5) }} as {{ type_double() }}) as changed_files_median,
        sum(case when size_lines <= {{ buckets.small }} then 1 else 0 end) as prs_small,
        sum(case when size_lines > {{ buckets.small }} and size_lines <= {{ buckets.medium }} then 1 else 0 end)
            as prs_medium,
        sum(case when size_lines > {{ buckets.medium }} and size_lines <= {{ buckets.large }} then 1 else 0 end)
            as prs_large,
        sum(case when size_lines > {{ buckets.large }} then 1 else 0 end) as prs_huge,
        -- review
        cast({{ percentile('pickup_hours', 0.5) }} as {{ type_double() }}) as review_turnaround_median_hours,
        cast(avg(case when is_unreviewed then 1.0 else 0.0 end) as {{ type_double() }}) as share_unreviewed,
        cast(avg(case when is_self_merged then 1.0 else 0.0 end) as {{ type_double() }}) as share_self_merged,
        cast(avg(case when is_merged_without_approval then 1.0 else 0.0 end) as {{ type_double() }})
            as share_merged_without_approval
    from flags
    group by team, week_start
)

select
    team,
    week_start,
    cast(merged_prs as bigint) as merged_prs,
    size_lines_median,
    size_lines_p75,
    changed_files_median,
    cast(prs_small as bigint) as prs_small,
    cast(prs_medium as bigint) as prs_medium,
    cast(prs_large as bigint) as prs_large,
    cast(prs_huge as bigint) as prs_huge,
    review_turnaround_median_hours,
    share_unreviewed,
    share_self_merged,
    share_merged_without_approval
from final
