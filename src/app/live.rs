//! Parts of a page that follow a live stream (`/live/…`, `server::live`).
//!
//! The page is rendered on the server only (islands, see `app`), so a change is
//! shown the way the page was first: the browser fetches the page again and
//! changes the region into its new HTML (`morph`). Server functions' forms in
//! the region go the same way (a server function answers a form with the page
//! it came from), so following a repository or retrying an event reloads
//! nothing. The WASM carries no view and no type of the page for it.

use leptos::prelude::*;

/// `children`, kept current: fetched again on each `changed` message of
/// `stream` (the server also sends one when the stream connects, so what
/// changed between rendering and subscribing is not missed).
#[component]
pub fn Live(stream: String, children: Children) -> impl IntoView {
    view! {
        <div class="live" data-live=stream>
            <LiveRegion/>
            <div class="live-content">{children()}</div>
        </div>
    }
}

/// The region's code: no props (an island's props are decoded with
/// serde_json, which the WASM would then carry); it finds its region and
/// stream from where it is in the page.
#[island]
fn LiveRegion() -> impl IntoView {
    let marker = NodeRef::<leptos::html::Span>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(marker) = marker.get() {
            browser::follow(&marker);
        }
    });
    view! { <span hidden node_ref=marker></span> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::Cell, rc::Rc};

    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        DomParser, Element, EventSource, FormData, Headers, HtmlFormElement, Node, RequestInit, Response, SubmitEvent,
        SupportedType, UrlSearchParams,
    };

    /// One live region: what it shows is the newest of the pages fetched for it.
    struct Region {
        element: Element,
        stream: String,
        /// Fetches are numbered as they start; one that ends after a newer one
        /// was put in place is dropped (it shows an older state).
        started: Cell<u64>,
        shown: Cell<u64>,
        /// A change came while the page was being fetched: fetch once more after.
        refreshing: Cell<bool>,
        again: Cell<bool>,
    }

    pub fn follow(marker: &Element) {
        let Some(element) = marker.closest("[data-live]").ok().flatten() else { return };
        let Some(stream) = element.get_attribute("data-live") else { return };
        let Ok(source) = EventSource::new(&stream) else { return };
        let region = Rc::new(Region {
            element,
            stream,
            started: Cell::new(0),
            shown: Cell::new(0),
            refreshing: Cell::new(false),
            again: Cell::new(false),
        });

        let on_change = {
            let region = region.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
                if region.refreshing.replace(true) {
                    region.again.set(true);
                } else {
                    leptos::task::spawn_local(refresh(region.clone()));
                }
            })
        };
        let _ = source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
        let on_submit = {
            let region = region.clone();
            Closure::<dyn FnMut(SubmitEvent)>::new(move |event: SubmitEvent| {
                let Some(form) = event.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
                // Only a server function's form (`/fn/…`, see `api`) answers with this page; any
                // other goes where it leads (installing goes to GitHub; a filter is a page of its own).
                if !form.method().eq_ignore_ascii_case("post") || !url_path(&form.action()).starts_with("/fn/") {
                    return;
                }
                event.prevent_default();
                leptos::task::spawn_local(submit(region.clone(), form));
            })
        };
        let _ = region.element.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        // The region lives as long as the page.
        on_change.forget();
        on_submit.forget();
        std::mem::forget(source);
    }

    async fn refresh(region: Rc<Region>) {
        loop {
            region.again.set(false);
            let href = leptos::prelude::window().location().href().unwrap_or_default();
            let init = RequestInit::new();
            show(&region, fetch(&href, &init)).await;
            if !region.again.get() {
                break;
            }
        }
        region.refreshing.set(false);
    }

    /// Posts the form as the browser would, and shows the page the answer leads to.
    async fn submit(region: Rc<Region>, form: HtmlFormElement) {
        let Ok(data) = FormData::new_with_form(&form) else { return };
        let Ok(body) = UrlSearchParams::new_with_str_sequence_sequence(&data) else { return };
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        // Shown as pending (style/main.css) until the page it leads to replaces it.
        let _ = form.set_attribute("aria-busy", "true");
        show(&region, fetch(&form.action(), &init)).await;
        let _ = form.remove_attribute("aria-busy");
    }

    async fn fetch(href: &str, init: &RequestInit) -> Result<Response, JsValue> {
        // Asked as a browser asks for a page: a server function then answers a
        // form with a redirect to the page (errors in its address, as without WASM).
        let headers = Headers::new()?;
        headers.set("Accept", "text/html")?;
        init.set_headers(&headers);
        let response = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(href, init)).await?;
        response.dyn_into()
    }

    async fn show(region: &Region, response: impl std::future::Future<Output = Result<Response, JsValue>>) {
        let number = region.started.get() + 1;
        region.started.set(number);
        let location = leptos::prelude::window().location();
        // Offline, say: what is shown stays.
        let Ok(response) = response.await else { return };
        // Led elsewhere (signed out, say): go there, as a form without WASM would.
        let here = location.pathname().unwrap_or_default();
        if url_path(&response.url()) != here {
            let _ = location.assign(&response.url());
            return;
        }
        let Ok(text) = response.text() else { return };
        let Some(html) = JsFuture::from(text).await.ok().and_then(|t| t.as_string()) else { return };
        if number < region.shown.get() {
            return;
        }
        region.shown.set(number);
        let Some(page) = DomParser::new().ok().and_then(|p| p.parse_from_string(&html, SupportedType::TextHtml).ok())
        else {
            return;
        };
        let selector = format!("[data-live=\"{}\"] > .live-content", region.stream);
        let (Some(old), Some(new)) = (
            region.element.query_selector(":scope > .live-content").ok().flatten(),
            page.query_selector(&selector).ok().flatten(),
        ) else {
            // The page no longer has the region (not found, say): show what it has.
            let _ = location.reload();
            return;
        };
        morph(&old, &new);
        leptos::prelude::document().set_title(&page.title());
    }

    fn url_path(url: &str) -> String {
        web_sys::Url::new(url).map(|u| u.pathname()).unwrap_or_default()
    }

    /// Makes `old` what `new` is, keeping the nodes that stay: so the field
    /// one is typing in keeps its focus and what was typed (a field's
    /// `value` attribute no longer sets what it shows once edited), and a
    /// status (`aria-live`) is updated in place, which screen readers announce.
    /// Children are matched by position.
    fn morph(old: &Node, new: &Node) {
        if let (Some(old), Some(new)) = (old.dyn_ref::<Element>(), new.dyn_ref::<Element>()) {
            let (had, has) = (old.attributes(), new.attributes());
            for attr in (0..has.length()).filter_map(|i| has.item(i)) {
                if old.get_attribute(&attr.name()).as_deref() != Some(attr.value().as_str()) {
                    let _ = old.set_attribute(&attr.name(), &attr.value());
                }
            }
            let gone: Vec<String> = (0..had.length())
                .filter_map(|i| had.item(i))
                .map(|attr| attr.name())
                .filter(|name| !new.has_attribute(name))
                .collect();
            for name in gone {
                let _ = old.remove_attribute(&name);
            }
        }
        let (olds, news) = (children(old), children(new));
        for (i, fresh) in news.iter().enumerate() {
            match olds.get(i) {
                Some(kept) if same_kind(kept, fresh) => match kept.node_type() {
                    Node::ELEMENT_NODE => morph(kept, fresh),
                    _ if kept.node_value() != fresh.node_value() => kept.set_node_value(fresh.node_value().as_deref()),
                    _ => {}
                },
                Some(kept) => drop(old.replace_child(fresh, kept)),
                None => drop(old.append_child(fresh)),
            }
        }
        for extra in olds.iter().skip(news.len()) {
            let _ = old.remove_child(extra);
        }
    }

    fn children(node: &Node) -> Vec<Node> {
        let list = node.child_nodes();
        (0..list.length()).filter_map(|i| list.item(i)).collect()
    }

    fn same_kind(a: &Node, b: &Node) -> bool {
        a.node_type() == b.node_type() && a.node_name() == b.node_name()
    }
}
