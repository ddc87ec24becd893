/*
 * Tessera prompt loader.
 *
 * A classic script, no protocol logic: it finds its own <script> tag, makes an element
 * with an open shadow root, puts the prompt's stylesheet and a container in it, loads the
 * Wasm prompt from beside this file and calls its `mount`. Everything else (the edge API,
 * the state, the redirect) is in the Wasm.
 *
 *   <script src="https://EDGE/prompt/v1/embed.js" data-client-id="DI…"
 *           data-request="eyJ…" data-nonce="…" data-target="#tessera-prompt"
 *           data-lang="fr" async></script>
 *
 * or, from a page's own code, once this script has loaded:
 *
 *   Tessera.mount(element, { clientId: "DI…", request: "eyJ…", nonce: "…", lang: "fr",
 *                            onComplete: function (result) { … } });
 *
 * The prompt dispatches a cancelable `tessera:complete` event ({detail: {code, state}})
 * that bubbles out of the shadow root; unless it is cancelled, it redirects. With
 * `onComplete`, the callback gets {code, state} and there is no redirect. `lang` (else the
 * browser's languages) picks the language.
 *
 *   Tessera.preview(element, { screen: "verified-push", lang: "ar" });
 *
 * renders one screen with made-up data and no edge (it cannot sign anyone in).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  // Everything is served from the directory this script came from, on the edge's origin.
  var base = new URL(".", (script && script.src) || document.baseURI).href;
  var loading = null;

  var LOAD_FAILED = "The sign-in prompt could not be loaded. Reload the page to try again.";
  var NO_TARGET = "The sign-in prompt has nowhere to appear (data-target matches nothing).";

  /**
   * Loads and initialises the Wasm module once per page. The Wasm is fetched at once, in
   * parallel with its JavaScript glue, and compiled as it streams in.
   */
  function load() {
    if (!loading) {
      var wasm = fetch(base + "tessera_prompt_bg.wasm");
      loading = import(base + "tessera_prompt.js").then(function (module) {
        return module
          .default({ module_or_path: wasm })
          .then(function () {
            return module;
          });
      });
    }
    return loading;
  }

  /** Makes a shadow host inside `element`; returns the container the prompt renders in. */
  function attach(element) {
    var host = document.createElement("div");
    host.setAttribute("data-tessera-prompt", "");
    element.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = base + "prompt.css";
    root.appendChild(style);
    var container = document.createElement("div");
    container.className = "tessera-root";
    root.appendChild(container);
    return container;
  }

  function fail(container, message) {
    var alert = document.createElement("p");
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    container.replaceChildren(alert);
  }

  /**
   * Mounts a prompt in `element`. `options`: {clientId, request, nonce?, lang?, edge?,
   * onComplete?}; `edge` defaults to the origin this script came from. Resolves once the
   * prompt is mounted.
   */
  function mount(element, options) {
    var container = attach(element);
    var config = {
      edge: options.edge || new URL(base).origin,
      clientId: options.clientId,
      request: options.request,
      nonce: options.nonce || undefined,
      lang: options.lang || undefined,
    };
    if (typeof options.onComplete === "function") {
      container.getRootNode().host.addEventListener("tessera:complete", function (event) {
        event.preventDefault();
        options.onComplete({ code: event.detail.code, state: event.detail.state });
      });
    }
    return start(container, function (module) {
      module.mount(container, config);
    });
  }

  /** Renders the preview of one screen: {screen, lang?}. Talks to no edge. */
  function preview(element, options) {
    var container = attach(element);
    return start(container, function (module) {
      module.preview(container, { screen: options.screen, lang: options.lang });
    });
  }

  function start(container, run) {
    return load().then(
      run,
      function (error) {
        fail(container, LOAD_FAILED);
        if (window.console) console.error("Tessera prompt:", error);
      },
    );
  }

  /** Mounts the prompt the <script> tag's data attributes describe. */
  function mountFromScript() {
    var data = script.dataset;
    var element;
    if (data.target) {
      element = document.querySelector(data.target);
    } else {
      element = document.createElement("div");
      script.after(element);
    }
    if (!element) {
      var note = document.createElement("div");
      script.after(note);
      fail(note, NO_TARGET);
      return;
    }
    mount(element, {
      clientId: data.clientId,
      request: data.request,
      nonce: data.nonce,
      lang: data.lang,
    });
  }

  window.Tessera = window.Tessera || {};
  window.Tessera.mount = mount;
  window.Tessera.preview = preview;

  if (script && script.dataset.clientId) {
    var target = script.dataset.target;
    // An async script can run before its target element is parsed.
    if (target && document.readyState === "loading" && !document.querySelector(target)) {
      document.addEventListener("DOMContentLoaded", mountFromScript, { once: true });
    } else {
      mountFromScript();
    }
  }
})();
