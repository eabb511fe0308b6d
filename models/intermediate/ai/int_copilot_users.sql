-- Every GitHub user the Copilot reports or the seat list name, resolved to a person by the project's identity
-- resolution (int_people, source system `github`); a login int_people has not seen stands for itself
-- (`github:<login>`, as int_people would key it). Logins stay here; marts get `person_key` at most.
with

user_days as (
    select * from {{ ref('stg_github_copilot__user_days') }}
),

user_teams as (
    select * from {{ ref('stg_github_copilot__user_teams') }}
),

seats as (
    select * from {{ ref('stg_github_copilot__seats') }}
),

people as (
    select * from {{ ref('int_people') }}
),

logins as (
    select user_id, user_login from user_days
    union
    select user_id, user_login from user_teams
    union
    select user_id, user_login from seats
),

latest as (
    select
        user_id,
        max(user_login) as user_login
    from logins
    where user_login is not null
    group by user_id
),

resolved as (
    select
        latest.user_id,
        latest.user_login,
        coalesce(people.person_id, 'github:' || latest.user_login) as person_id
    from latest
    left join people
        on people.source_system = 'github'
        and people.identity = latest.user_login
),

final as (
    select
        -- ids
        user_id,
        person_id,
        {{ person_key('person_id') }} as person_key,
        -- private: never selected by marts
        user_login
    from resolved
)

select * from final
