{#- A tool's status category as our issue status: Jira's `statusCategory.key` (new / indeterminate / done),
    never a status name, because boards name statuses in any language. -#}
{% macro issue_status_category(category_key) -%}
    case {{ category_key }}
        when 'new' then 'todo'
        when 'indeterminate' then 'in_progress'
        when 'done' then 'done'
        else 'unknown'
    end
{%- endmacro %}
