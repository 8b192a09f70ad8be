// Loaded before require.js and embed-amd.js on every page that shows a widget.
// The widget manager looks up two addresses: its icon fonts (webpack's public path, taken from
// window.__jupyter_widgets_assets_path__) and a "CDN" for widget packages it does not bundle
// (the data-jupyter-widgets-cdn attribute of a script tag). Both are set here to this folder,
// resolved from this script's own address, so they are right from every page depth and no
// request ever leaves the site.
(function () {
  var script = document.currentScript;
  var here = new URL(".", script.src).href;
  window.__jupyter_widgets_assets_path__ = here;
  script.setAttribute("data-jupyter-widgets-cdn", here);
})();
