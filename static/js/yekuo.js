// Behaviour of the pages that the Content-Security-Policy allows: scripts come from files
// like this one, never from inline <script> blocks or on* attributes.
"use strict";

document.addEventListener("click", function (event) {
  // <button data-print>: print the page (the receipt, the printed plan).
  const button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
