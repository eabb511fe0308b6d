-- One row per person and team membership period (`people_teams` seed), plus one row for each person with no
-- membership (team `unassigned`). People are their keyed-hash `person_key`; a name only when var
-- `expose_individuals` is true.
with

people as (
    select * from {{ ref('int_people') }}
),

people_teams as (
    select * from {{ ref('people_teams') }}
),

persons as (
    select
        person_key,
        person_id,
        max(display_name) as display_name,
        max(current_team) as current_team
    from people
    group by person_key, person_id
),

memberships as (
    select
        persons.person_key,
        persons.display_name,
        coalesce(persons.current_team, 'unassigned') as current_team,
        coalesce(people_teams.team, 'unassigned') as team,
        people_teams.valid_from,
        people_teams.valid_to
    from persons
    left join people_teams
        on persons.person_id = people_teams.person
),

final as (
    select
        -- ids
        person_key,
        -- ownership
        team,
        current_team,
        -- timestamps
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        -- flags
        valid_from is not null
            and valid_from <= {{ as_of_date() }}
            and (valid_to is null or valid_to > {{ as_of_date() }}) as is_current,
        -- private: only when individuals are exposed
        {% if var('expose_individuals', false) -%}
        cast(display_name as {{ dbt.type_string() }}) as display_name
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as display_name
        {%- endif %}
    from memberships
)

select * from final
