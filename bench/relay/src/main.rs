//! The floor of the local API's benchmark: what a second hop on loopback costs a call on this
//! machine when nothing is done on it. `bare-relay HOST:PORT` listens on a free loopback port,
//! prints it on a line, and for each connection opens one to `HOST:PORT` and copies bytes each
//! way, a blocking thread per direction, until either side closes. No HTTP is read, nothing
//! is checked, added or rewritten: `bench/proxy.py` sends the same call through it (with the
//! account's own token) beside `amo proxy`, so that the proxy's overhead can be told apart
//! from the hop's.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(upstream) = std::env::args().nth(1) else {
        eprintln!("usage: bare-relay HOST:PORT");
        return ExitCode::from(2);
    };
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| {
        let port = l.local_addr()?.port();
        Ok((l, port))
    }) {
        Ok((listener, port)) => {
            println!("{port}");
            listener
        }
        Err(e) => {
            eprintln!("bare-relay: cannot listen on loopback: {e}");
            return ExitCode::FAILURE;
        }
    };
    for client in listener.incoming().flatten() {
        if let Err(e) = relay(client, &upstream) {
            eprintln!("bare-relay: {upstream}: {e}");
        }
    }
    ExitCode::SUCCESS
}

/// Connects `client` to `upstream`: a thread copies each way.
fn relay(client: TcpStream, upstream: &str) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    for stream in [&client, &server] {
        stream.set_nodelay(true)?;
    }
    let (client2, server2) = (client.try_clone()?, server.try_clone()?);
    std::thread::spawn(move || copy(client, server));
    std::thread::spawn(move || copy(server2, client2));
    Ok(())
}

/// Copies what `from` sends to `to` as it comes, then closes `to`'s sending side.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
