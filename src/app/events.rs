//! The event log, for operators: every webhook event, filterable, with its
//! payload, error and attempts; retry; recovery of missed deliveries. The list
//! follows new events and status changes live (server-sent events).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use super::{data_resource, live::Live, ErrorNote, NotFound, OperatorOnly};
use crate::{
    api::{
        error::AppError,
        events::{get_event, list_events, RecoverMissedDeliveries, RetryEvent},
    },
    domain::events::{EventFilter, EventRow, EventStatus},
};

fn status_badge(status: EventStatus) -> impl IntoView {
    let status = status.as_str();
    view! { <span class=format!("badge status-{status}")>{status}</span> }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|v| !v.trim().is_empty());
        EventFilter {
            status: text("status").and_then(|s| EventStatus::parse(s.trim())),
            event: text("event"),
            action: text("action"),
            installation: text("installation").and_then(|v| v.trim().parse().ok()),
        }
    });
    let events = data_resource(move || filter.get(), list_events);
    let field = move |key: &'static str| move || query.read().get(key).unwrap_or_default();
    let unknown_status = move || {
        let asked = field("status")();
        let asked = asked.trim();
        (!asked.is_empty() && EventStatus::parse(asked).is_none()).then(|| {
            let note = format!("No status is called “{asked}”; showing every status.");
            view! { <p class="note error" role="alert">{note}</p> }
        })
    };

    view! {
        <OperatorOnly>
        <Title text="Webhook events"/>
        <RecoverDeliveries/>
        <form method="get" action="/admin/events" class="filters" aria-label="Filter events">
            <label>"Status "
                <select name="status">
                    <option value="">"any"</option>
                    {EventStatus::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .map(|s| view! { <option value=s selected=move || field("status")() == s>{s}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>"Event " <input type="text" name="event" value=field("event") size="18"/></label>
            <label>"Action " <input type="text" name="action" value=field("action") size="12"/></label>
            <label>"Installation " <input type="text" name="installation" value=field("installation") size="10" inputmode="numeric"/></label>
            <button type="submit" class="button subtle">"Filter"</button>
        </form>
        {unknown_status}
        <Live stream=LIVE.to_owned()>
        <Transition fallback=|| view! { <p>"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok((rows, counts)) => view! {
                        <p class="muted" aria-live="polite">
                            {counts.into_iter().map(|c| format!("{}{} {}", if c.approximate { "≈" } else { "" }, c.count, c.status.as_str())).collect::<Vec<_>>().join(" · ")}
                        </p>
                        <EventTable rows/>
                    }.into_any(),
                    Err(AppError::NotFound) | Err(AppError::Unauthorized) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
        </Live>
        </OperatorOnly>
    }
}

/// The stream that says when events arrive or change.
const LIVE: &str = "/live/events";

/// An island: what the check found is the server function's answer, shown
/// where the button is (a plain form could only say what went wrong).
#[island]
fn RecoverDeliveries() -> impl IntoView {
    let recover = ServerAction::<RecoverMissedDeliveries>::new();
    view! {
        <div class="page-heading">
            <h1>"Webhook events"</h1>
            <ActionForm action=recover>
                <button type="submit" class="button subtle" disabled=move || recover.pending().get()>
                    "Check GitHub for missed deliveries"
                </button>
            </ActionForm>
        </div>
        <p role="status" aria-live="polite" class="muted">
            {move || match recover.value().get() {
                Some(Ok(found)) => format!(
                    "GitHub listed {} deliveries since the last check; {} missing ones were redelivered{}.",
                    found.checked,
                    found.redelivered,
                    if found.failed > 0 { format!(", {} refused (asked again next time)", found.failed) } else { String::new() },
                ),
                Some(Err(error)) => error.to_string(),
                None => String::new(),
            }}
        </p>
    }
}

/// Enough of a delivery's GUID to tell it from the others on a page.
fn short_guid(delivery_id: &str) -> String {
    delivery_id.chars().take(8).collect()
}

#[component]
fn EventTable(rows: Vec<EventRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No events match."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="events">
                <thead><tr>
                    <th scope="col">"Received (UTC)"</th><th scope="col">"Delivery"</th><th scope="col">"Event"</th>
                    <th scope="col">"Installation"</th>
                    <th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Reason"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr>
                            <td><A href=format!("/admin/events/{}", row.id)>{row.received_at}</A></td>
                            // The start of GitHub's delivery GUID, as its "Recent Deliveries" lists them.
                            <td><code title=row.delivery_id.clone()>{short_guid(&row.delivery_id)}</code></td>
                            <td>{row.event}{row.action.map(|a| format!(".{a}"))}</td>
                            <td>{row.installation_github_id.map(|i| i.to_string())}</td>
                            <td>{status_badge(row.status)}</td>
                            <td>{row.attempts}</td>
                            <td>{row.failure_reason}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let retry = ServerAction::<RetryEvent>::new();
    let event = data_resource(move || id.get(), get_event);
    view! {
        <OperatorOnly>
        <Title text="Webhook event"/>
        <p><A href="/admin/events">"← All events"</A></p>
        <Live stream=LIVE.to_owned()>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(detail) => {
                        let retryable = detail.row.status.retryable();
                        view! {
                            <h1>{detail.row.event.clone()}{detail.row.action.clone().map(|a| format!(".{a}"))}</h1>
                            <dl class="facts">
                                <dt>"Status"</dt><dd>{status_badge(detail.row.status)}</dd>
                                <dt>"Delivery"</dt><dd><code>{detail.row.delivery_id.clone()}</code></dd>
                                <dt>"Installation"</dt><dd>{detail.row.installation_github_id.map(|i| i.to_string()).unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Received (UTC)"</dt><dd>{detail.row.received_at.clone()}</dd>
                                <dt>"Processed (UTC)"</dt><dd>{detail.processed_at.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Attempts"</dt><dd>{detail.row.attempts}</dd>
                                <dt>"Next attempt (UTC)"</dt><dd>{detail.next_attempt_at.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Reason"</dt><dd>{detail.row.failure_reason.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Error"</dt><dd>{detail.error.clone().unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                            {retryable.then(|| view! {
                                <ActionForm action=retry>
                                    <input type="hidden" name="id" value=detail.row.id/>
                                    <button type="submit" class="button">"Retry"</button>
                                </ActionForm>
                            })}
                            {move || retry.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
                            <h2>"Payload"</h2>
                            <pre class="payload">{detail.payload.clone()}</pre>
                        }.into_any()
                    }
                    Err(AppError::NotFound) | Err(AppError::Unauthorized) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
        </Live>
        </OperatorOnly>
    }
}
