-- One row per merged change (fct_changes) opened in an ISO week the Copilot reports cover, with the cohort of its
-- author in that week: `ai_active` when the author used Copilot on at least var ai_active_days_per_week days of
-- it, else `other`. The author is resolved to a person by int_people, as Copilot users are (int_copilot_users).
with

changes as (
    select * from {{ ref('int_change_facts') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

people as (
    select * from {{ ref('int_people') }}
),

person_weeks as (
    select * from {{ ref('int_copilot_person_weeks') }} where team = 'org'
),

covered_weeks as (
    select distinct week_start from person_weeks
),

authored as (
    select
        changes.*,
        coalesce(people.person_id, pull_requests.source_system || ':' || pull_requests.author_login)
            as author_person_id,
        {{ period_start('week', 'changes.opened_at') }} as opened_week_start
    from changes
    inner join pull_requests
        on changes.pull_request_key = pull_requests.pull_request_key
    left join people
        on pull_requests.source_system = people.source_system
        and pull_requests.author_login = people.identity
    where pull_requests.author_login is not null
),

final as (
    select
        -- ids
        authored.pull_request_key,
        authored.team,
        authored.deployment_id,
        authored.author_person_id,
        {{ person_key('authored.author_person_id') }} as author_key,
        -- cohort
        authored.opened_week_start,
        case when person_weeks.is_ai_active then 'ai_active' else 'other' end as cohort,
        -- timestamps
        authored.opened_at,
        authored.merged_at,
        authored.deployed_at,
        -- measures
        authored.lead_time_hours,
        authored.review_hours,
        authored.size_lines
    from authored
    inner join covered_weeks
        on authored.opened_week_start = covered_weeks.week_start
    left join person_weeks
        on authored.author_person_id = person_weeks.person_id
        and authored.opened_week_start = person_weeks.week_start
)

select * from final
