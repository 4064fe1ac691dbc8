//! WeChat web authorization (网页授权) and website QR login, with a CSRF-proof state.
