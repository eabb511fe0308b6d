-- One row per team and ISO week: the reviews given on the team's pull requests (by anyone but the author), how
-- many people gave them, and the pull requests still waiting for a first review at the end of the week (open,
-- not a draft, no review by someone else yet). A team is the team of the PR's repository.
with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

reviews as (
    select * from {{ ref('int_reviews') }}
    where not is_author_review
        and state <> 'PENDING'
        and submitted_at is not null
),

reviews_given as (
    select
        pull_requests.team,
        {{ period_start('week', 'reviews.submitted_at') }} as week_start,
        count(*) as reviews_given,
        count(distinct reviews.reviewer_key) as reviewers
    from reviews
    inner join pull_requests
        on reviews.pull_request_key = pull_requests.pull_request_key
    group by pull_requests.team, {{ period_start('week', 'reviews.submitted_at') }}
),

weeks as (
    select distinct team, {{ period_start('week', 'opened_at') }} as week_start from pull_requests
    union
    select team, week_start from reviews_given
),

week_ends as (
    select
        team,
        week_start,
        {{ dbt.dateadd('day', 7, 'cast(week_start as timestamp)') }} as week_end_at
    from weeks
),

waiting as (
    select
        week_ends.team,
        week_ends.week_start,
        count(*) as waiting_prs_at_week_end
    from week_ends
    inner join pull_requests
        on week_ends.team = pull_requests.team
    where pull_requests.opened_at < week_ends.week_end_at
        and coalesce(pull_requests.merged_at, pull_requests.closed_at, week_ends.week_end_at) >= week_ends.week_end_at
        and coalesce(pull_requests.first_review_at, week_ends.week_end_at) >= week_ends.week_end_at
        and not coalesce(pull_requests.is_draft, false)
    group by week_ends.team, week_ends.week_start
),

final as (
    select
        -- ids
        weeks.team,
        weeks.week_start,
        -- measures
        cast(coalesce(reviews_given.reviews_given, 0) as bigint) as reviews_given,
        cast(coalesce(reviews_given.reviewers, 0) as bigint) as reviewers,
        cast(coalesce(waiting.waiting_prs_at_week_end, 0) as bigint) as waiting_prs_at_week_end
    from weeks
    left join reviews_given
        on weeks.team = reviews_given.team
        and weeks.week_start = reviews_given.week_start
    left join waiting
        on weeks.team = waiting.team
        and weeks.week_start = waiting.week_start
)

select * from final
