-- Issue ↔ pull request links: issue keys (var `issue_key_pattern`) written in a pull request's title, head
-- branch, body or the messages of its commits, kept when the key names a known issue; for GitHub pull requests
-- also `#123` references (var `github_issue_ref_pattern`) to an issue of the same repository. One row per pair,
-- with the strongest evidence as `link_method` (title > branch > body > commit_message).
with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

pull_request_commits as (
    select
        'github' as source_system,
        repository,
        pull_request_number,
        message
    from {{ ref('stg_github__pull_request_commits') }}
    union all
    select
        'gitlab' as source_system,
        repository,
        pull_request_number,
        message
    from {{ ref('stg_gitlab__merge_request_commits') }}
),

texts as (
    select
        pull_request_key,
        title as text,
        'title' as link_method,
        1 as strength
    from pull_requests
    union all
    select
        pull_request_key,
        head_ref,
        'branch',
        2
    from pull_requests
    union all
    select
        pull_request_key,
        body,
        'body',
        3
    from pull_requests
    union all
    select
        source_system || ':' || repository || '#' || cast(pull_request_number as {{ dbt.type_string() }}),
        message,
        'commit_message',
        4
    from pull_request_commits
),

mentions as (
    select
        pull_request_key,
        {{ regex_extract_each('text', "'" ~ var('issue_key_pattern') | replace("'", "''") ~ "'") }} as issue_ref,
        link_method,
        strength
    from texts
    where text is not null
),

github_texts as (
    select
        texts.pull_request_key,
        pull_requests.repository,
        texts.text,
        texts.link_method,
        texts.strength
    from texts
    inner join pull_requests
        on texts.pull_request_key = pull_requests.pull_request_key
    where pull_requests.source_system = 'github'
        and texts.text is not null
),

-- `#123` in a GitHub pull request names issue 123 of its own repository
github_references as (
    select
        pull_request_key,
        repository,
        {{ regex_extract_each('text', "'" ~ var('github_issue_ref_pattern') | replace("'", "''") ~ "'") }} as reference,
        link_method,
        strength
    from github_texts
),

github_mentions as (
    select
        pull_request_key,
        repository || reference as issue_ref,
        link_method,
        strength
    from github_references
),

all_mentions as (
    select * from mentions
    union all
    select * from github_mentions
),

final as (
    select
        issues.issue_key,
        all_mentions.pull_request_key,
        all_mentions.issue_ref,
        {{ arg_min('all_mentions.link_method', 'all_mentions.strength') }} as link_method
    from all_mentions
    inner join issues
        on all_mentions.issue_ref = issues.issue_ref
    group by issues.issue_key, all_mentions.pull_request_key, all_mentions.issue_ref
)

select * from final
