-- Marts carry no logins unless var `expose_individuals` is true: no author_key of fct_changes equals a
-- pull request author's login.
{{ config(enabled=not var('expose_individuals', false)) }}

with

changes as (
    select * from {{ ref('fct_changes') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
)

select changes.pull_request_key
from changes
inner join pull_requests
    on changes.author_key = pull_requests.author_login
