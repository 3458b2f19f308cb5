//! Which URLs a webhook may point at: `https` to a public host name or
//! address. Loopback, private, link-local and unspecified addresses,
//! `localhost` and single-label names are refused, and so are user names or
//! passwords in the URL. With `WEBHOOK_ALLOW_LOCAL` (set by `scripts/dev`
//! and the tests), `http://127.0.0.1[:port]/...` and
//! `http://localhost[:port]/...` are allowed too, for a local receiver.
//!
//! A name that resolves to a private address cannot be checked from a
//! Worker (it has no DNS API); Cloudflare's outbound fetch does not reach
//! private networks in any case.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest URL accepted.
const MAX_LEN: usize = 2048;

/// Whether `url` may be a webhook's; the reason when it may not.
pub(crate) fn check(url: &str, allow_local: bool) -> Result<(), String> {
    if url.len() > MAX_LEN {
        return Err(format!("The URL is longer than {MAX_LEN} characters."));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The URL holds whitespace or control characters.".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("The URL must be absolute, like https://example.com/hooks.".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("The URL may not hold a user name or password.".into());
    }
    let host = host_of(authority)
        .ok_or_else(|| "The URL has no host.".to_owned())?
        .to_ascii_lowercase();
    let local = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    if allow_local && local && matches!(scheme.as_str(), "http" | "https") {
        return Ok(());
    }
    if scheme != "https" {
        return Err(if allow_local {
            "The URL must be https (or http://127.0.0.1 or http://localhost here).".into()
        } else {
            "The URL must be https.".into()
        });
    }
    if let Some(ip) = ip_of(&host) {
        return if public(ip) {
            Ok(())
        } else {
            Err("The URL points at a loopback, private or reserved address.".into())
        };
    }
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
        return Err("The URL points at a local host name.".into());
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    if labels.len() < 2 {
        return Err("The URL's host must be a public name (with a dot) or address.".into());
    }
    let valid = labels.iter().all(|l| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if valid {
        Ok(())
    } else {
        Err("The URL's host is not a valid name.".into())
    }
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`); `None`
/// (then the URL is refused by its caller) when there is none.
fn host_of(authority: &str) -> Option<&str> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        return Some(&authority[..=end]);
    }
    let host = authority.split(':').next().unwrap_or("");
    (!host.is_empty()).then_some(host)
}

fn ip_of(host: &str) -> Option<IpAddr> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Whether an address is on the public internet.
fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| !public(IpAddr::V4(v4))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_are_accepted() {
        for ok in [
            "https://example.com/hooks",
            "https://hooks.example.co.uk:8443/scim?x=1",
            "https://93.184.216.34/x",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
        ] {
            assert_eq!(check(ok, false), Ok(()), "{ok}");
        }
    }

    #[test]
    fn local_private_and_plain_http_urls_are_refused() {
        for bad in [
            "http://example.com/hooks",
            "ftp://example.com/x",
            "https://localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.10/x",
            "https://172.16.5.4/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://intranet/x",
            "https://printer.local/x",
            "https://user:pw@example.com/x",
            "https://exa mple.com/x",
            "example.com/x",
            "https:///x",
        ] {
            assert!(check(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_local_receiver_over_http_only_where_allowed() {
        assert!(check("http://127.0.0.1:8790/receive", false).is_err());
        assert_eq!(check("http://127.0.0.1:8790/receive", true), Ok(()));
        assert_eq!(check("http://localhost:9000/", true), Ok(()));
        assert!(check("http://10.0.0.1/", true).is_err());
        assert!(check("http://example.com/", true).is_err());
    }
}
