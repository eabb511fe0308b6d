-- Team membership periods of every tool identity: the `people_teams` seed rows of the person the identity
-- resolves to (`int_people.person_id`), as UTC timestamps (from inclusive, to exclusive; NULL while current).
with

people as (
    select * from {{ ref('int_people') }}
),

people_teams as (
    select * from {{ ref('people_teams') }}
),

final as (
    select
        -- ids
        people.identity_key,
        people.source_system,
        people.identity,
        people.person_id,
        people.person_key,
        -- ownership
        people_teams.team,
        -- timestamps
        cast(people_teams.valid_from as timestamp) as valid_from,
        cast(people_teams.valid_to as timestamp) as valid_to
    from people
    inner join people_teams
        on people.person_id = people_teams.person
)

select * from final
