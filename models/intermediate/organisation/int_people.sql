-- Identity resolution: every identity seen in any tool (GitHub logins, GitLab usernames, Jira accounts, commit
-- e-mails) tied to one person — by a row of seeds/identities.csv, else by a shared e-mail address, else the
-- identity stands alone. `person_key` is the keyed hash (HMAC) that marts may carry; names and e-mails stay here.
with

github_pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

github_reviews as (
    select * from {{ ref('stg_github__pull_request_reviews') }}
),

github_commits as (
    select
        author_login,
        author_email,
        author_name
    from {{ ref('stg_github__pull_request_commits') }}
    union all
    select
        author_login,
        author_email,
        author_name
    from {{ ref('stg_github__commits') }}
),

gitlab_merge_requests as (
    select * from {{ ref('stg_gitlab__merge_requests') }}
),

gitlab_notes as (
    select * from {{ ref('stg_gitlab__merge_request_notes') }}
),

gitlab_commits as (
    select
        author_email,
        author_name
    from {{ ref('stg_gitlab__merge_request_commits') }}
    union all
    select
        author_email,
        author_name
    from {{ ref('stg_gitlab__commits') }}
),

git_commits as (
    select
        author_email,
        author_name
    from {{ ref('stg_git__commits') }}
),

jira_issues as (
    select * from {{ ref('stg_jira__issues') }}
),

identity_seed as (
    select * from {{ ref('identities') }}
),

people_teams as (
    select * from {{ ref('people_teams') }}
),

-- (source_system, identity, e-mail, name); commit authors without a login are identified by their e-mail
seen as (
    select
        'github' as source_system,
        author_login as identity,
        null as email,
        null as display_name
    from github_pull_requests
    union all
    select
        'github',
        reviewer_login,
        null,
        null
    from github_reviews
    union all
    select
        'github',
        coalesce(author_login, lower(author_email)),
        lower(author_email),
        author_name
    from github_commits
    union all
    select
        'gitlab',
        author_login,
        null,
        null
    from gitlab_merge_requests
    union all
    select
        'gitlab',
        author_login,
        null,
        null
    from gitlab_notes
    union all
    select
        'git',
        lower(author_email),
        lower(author_email),
        author_name
    from gitlab_commits
    union all
    select
        'git',
        lower(author_email),
        lower(author_email),
        author_name
    from git_commits
    union all
    select
        'jira',
        assignee_account_id,
        lower(assignee_email),
        assignee_name
    from jira_issues
),

identities as (
    select
        source_system,
        identity,
        max(email) as email,
        max(display_name) as display_name
    from seen
    where identity is not null
    group by source_system, identity
),

resolved as (
    select
        identities.source_system,
        identities.identity,
        identities.email,
        identities.display_name,
        coalesce(identity_seed.person, identities.email, identities.source_system || ':' || identities.identity)
            as person_id
    from identities
    left join identity_seed
        on identities.source_system = identity_seed.source_system
        and identities.identity = identity_seed.identity
),

current_teams as (
    select
        person,
        {{ arg_max('team', 'valid_from') }} as team
    from people_teams
    where valid_to is null or valid_to > {{ as_of_date() }}
    group by person
),

final as (
    select
        -- ids
        resolved.source_system || ':' || resolved.identity as identity_key,
        resolved.source_system,
        resolved.identity,
        resolved.person_id,
        {{ person_key('resolved.person_id') }} as person_key,
        -- private: never selected by marts
        resolved.email,
        resolved.display_name,
        -- ownership
        current_teams.team as current_team
    from resolved
    left join current_teams
        on resolved.person_id = current_teams.person
)

select * from final
