// LTI pages: post a deep linking answer back to the LMS, and close a dynamic registration.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-lti-autosubmit]");
  if (form) form.submit();
  if (document.querySelector("[data-lti-close]")) {
    (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
});
