-- One row per team and ISO week: the reviews the team's people gave (on anyone's pull requests, never their
-- own), how many people gave them, and the team's pull requests still waiting for a first review at the end of
-- the week (open, not a draft, no review by someone else yet). A review counts for the team its reviewer was in
-- when they submitted it (`people_teams` seed); a reviewer with no membership then counts for the team of the
-- pull request's repository, as do waiting pull requests.
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

people_teams as (
    select * from {{ ref('int_people_teams') }}
),

reviews_by_team as (
    select
        coalesce(people_teams.team, pull_requests.team) as team,
        reviews.reviewer_key,
        reviews.submitted_at
    from reviews
    inner join pull_requests
        on reviews.pull_request_key = pull_requests.pull_request_key
    left join people_teams
        on reviews.source_system || ':' || reviews.reviewer_login = people_teams.identity_key
        and reviews.submitted_at >= people_teams.valid_from
        -- an open-ended period as a far-off end, not `valid_to is null or …`: every condition then compares the two
        -- sides and the join is a hash join by person (an `or` made it compare every review with every period)
        and reviews.submitted_at < coalesce(people_teams.valid_to, cast('9999-12-31' as {{ dbt.type_timestamp() }}))
),

reviews_given as (
    select
        team,
        {{ period_start('week', 'submitted_at') }} as week_start,
        count(*) as reviews_given,
        count(distinct reviewer_key) as reviewers
    from reviews_by_team
    group by team, {{ period_start('week', 'submitted_at') }}
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
