-- Default-branch commits and pull request commits (which may never reach the default branch), one row per
-- repository and SHA; a commit seen in both keeps the default-branch version. Commits read from local git
-- clones (`stg_git__commits`) fill in what no API listed: a commit the GitHub or GitLab API also returned for
-- the same repository keeps the API's row (it carries the author's login), so `source_system` = 'git' marks
-- commits only the clone knows.
with

{%- set columns = 'repository, sha, parent_shas, message, author_login, authored_at, committed_at' %}

commits as (
    select {{ columns }}, 'github' as source_system from {{ ref('stg_github__commits') }}
    union all
    select {{ columns }}, 'gitlab' as source_system from {{ ref('stg_gitlab__commits') }}
),

git_commits as (
    select * from {{ ref('stg_git__commits') }}
),

pull_request_commits as (
    select {{ columns }}, 'github' as source_system from {{ ref('stg_github__pull_request_commits') }}
    union all
    select {{ columns }}, 'gitlab' as source_system from {{ ref('stg_gitlab__merge_request_commits') }}
),

unioned as (
    select
        repository,
        sha,
        parent_shas,
        message,
        author_login,
        authored_at,
        committed_at,
        true as is_on_default_branch,
        1 as preference,
        source_system
    from commits
    union all
    select
        repository,
        sha,
        parent_shas,
        message,
        author_login,
        authored_at,
        committed_at,
        false as is_on_default_branch,
        2 as preference,
        source_system
    from pull_request_commits
    union all
    select
        repository,
        sha,
        parent_shas,
        message,
        cast(null as {{ dbt.type_string() }}) as author_login,
        authored_at,
        committed_at,
        true as is_on_default_branch,
        3 as preference,
        'git' as source_system
    from git_commits
),

deduplicated as (
    {{ dedupe('unioned', 'repository, sha', 'preference, committed_at desc nulls last, source_system') }}
),

final as (
    select
        -- ids
        source_system || ':' || repository || '@' || sha as commit_key,
        repository,
        sha,
        {{ split_words('parent_shas') }} as parent_shas,
        -- text
        message,
        -- people
        author_login,
        {{ person_key('author_login') }} as author_key,
        -- flags
        is_on_default_branch,
        -- timestamps
        authored_at,
        committed_at,
        -- lineage
        source_system
    from deduplicated
)

select
    *,
    {{ array_size('parent_shas') }} as parent_count,
    {{ array_size('parent_shas') }} > 1 as is_merge_commit
from final
