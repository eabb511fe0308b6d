-- One row per person, team and ISO week (Monday, UTC) covered by the Copilot reports: the team's engineers that
-- week — from seeds/people_teams (int_people_teams) for a person placed there, else from GitHub's user-teams
-- report — plus a row under team `org` for every engineer seen that week (a member, a seat holder or a user).
-- Carries whether the person held a seat, on how many days they used Copilot, and which features and IDEs.
with

user_days as (
    select * from {{ ref('int_copilot_user_days') }}
),

user_teams as (
    select * from {{ ref('stg_github_copilot__user_teams') }}
),

entity_days as (
    select * from {{ ref('stg_github_copilot__entity_days') }}
),

seats as (
    select * from {{ ref('stg_github_copilot__seats') }}
),

users as (
    select * from {{ ref('int_copilot_users') }}
),

people_teams as (
    select distinct person_id, team, valid_from, valid_to from {{ ref('int_people_teams') }}
),

report_weeks as (
    select distinct {{ period_start('week', 'report_date') }} as week_start from user_days
    union
    select distinct {{ period_start('week', 'report_date') }} from user_teams
    union
    select distinct {{ period_start('week', 'report_date') }} from entity_days
),

seed_members as (
    select
        people_teams.person_id,
        people_teams.team,
        report_weeks.week_start
    from report_weeks
    inner join people_teams
        on people_teams.valid_from < {{ dbt.dateadd('day', 7, 'report_weeks.week_start') }}
        and (people_teams.valid_to is null or people_teams.valid_to > report_weeks.week_start)
),

report_members as (
    select distinct
        users.person_id,
        user_teams.team_slug as team,
        {{ period_start('week', 'user_teams.report_date') }} as week_start
    from user_teams
    inner join users
        on user_teams.user_id = users.user_id
    where not exists (
        select 1 from people_teams where people_teams.person_id = users.person_id
    )
),

activity as (
    select
        person_id,
        {{ period_start('week', 'report_date') }} as week_start,
        count(distinct report_date) as active_days,
        max(case when used_completion then 1 else 0 end) as used_completion,
        max(case when used_chat then 1 else 0 end) as used_chat,
        max(case when used_agent then 1 else 0 end) as used_agent,
        max(case when used_cli then 1 else 0 end) as used_cli,
        max(case when used_vscode then 1 else 0 end) as used_vscode,
        max(case when used_jetbrains then 1 else 0 end) as used_jetbrains,
        max(case when used_other_ide then 1 else 0 end) as used_other_ide,
        sum(lines_suggested) as lines_suggested,
        sum(lines_accepted) as lines_accepted
    from user_days
    group by person_id, {{ period_start('week', 'report_date') }}
),

seat_weeks as (
    select distinct
        users.person_id,
        report_weeks.week_start
    from seats
    inner join users
        on seats.user_id = users.user_id
    cross join report_weeks
    where seats.seat_created_at < {{ dbt.dateadd('day', 7, 'report_weeks.week_start') }}
        and (seats.pending_cancellation_date is null or seats.pending_cancellation_date >= report_weeks.week_start)
),

memberships as (
    select person_id, team, week_start from seed_members
    union
    select person_id, team, week_start from report_members
),

engineers as (
    select person_id, week_start from memberships
    union
    select person_id, week_start from activity
    union
    select person_id, week_start from seat_weeks
),

team_rows as (
    select person_id, team, week_start from memberships
    union
    select person_id, 'org' as team, week_start from engineers
),

final as (
    select
        -- ids
        team_rows.team,
        cast(team_rows.week_start as date) as week_start,
        team_rows.person_id,
        {{ person_key('team_rows.person_id') }} as person_key,
        -- seat and activity
        (seat_weeks.person_id is not null or activity.person_id is not null) as has_seat,
        cast(coalesce(activity.active_days, 0) as bigint) as active_days,
        coalesce(activity.active_days, 0) >= 1 as is_active,
        coalesce(activity.active_days, 0) >= {{ var('ai_active_days_per_week') }} as is_ai_active,
        -- features and IDEs used in the week
        coalesce(activity.used_completion, 0) = 1 as used_completion,
        coalesce(activity.used_chat, 0) = 1 as used_chat,
        coalesce(activity.used_agent, 0) = 1 as used_agent,
        coalesce(activity.used_cli, 0) = 1 as used_cli,
        coalesce(activity.used_vscode, 0) = 1 as used_vscode,
        coalesce(activity.used_jetbrains, 0) = 1 as used_jetbrains,
        coalesce(activity.used_other_ide, 0) = 1 as used_other_ide,
        -- lines
        cast(coalesce(activity.lines_suggested, 0) as bigint) as lines_suggested,
        cast(coalesce(activity.lines_accepted, 0) as bigint) as lines_accepted
    from team_rows
    left join activity
        on team_rows.person_id = activity.person_id
        and team_rows.week_start = activity.week_start
    left join seat_weeks
        on team_rows.person_id = seat_weeks.person_id
        and team_rows.week_start = seat_weeks.week_start
)

select * from final
