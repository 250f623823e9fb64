#!/usr/bin/env bash
# Makes "TLS Readiness Checker.app" (from packaging.spec) into dist/tls-readiness-checker-VERSION.dmg.
# Signing and notarization run only when their credentials are set (installers/README.md):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Company (TEAMID)", a certificate in the keychain
#   MACOS_NOTARY_PROFILE  a notarytool keychain profile (xcrun notarytool store-credentials NAME ...)
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(python3 -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open("app/__init__.py").read())[1])')
app="dist/TLS Readiness Checker.app"
dmg="dist/tls-readiness-checker-${version}.dmg"
[ -d "$app" ] || { echo "$app is missing: run PyInstaller first (installers/build)." >&2; exit 2; }

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  # Hardened runtime and a secure timestamp, both required for notarization.
  codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
else
  echo "MACOS_SIGN_IDENTITY is not set: the .app is not signed (Gatekeeper will ask users to confirm)." >&2
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"  # drag the app onto it to install (no administrator needed for ~/Applications)
rm -f "$dmg"
hdiutil create -volname "TLS Readiness Checker ${version}" -srcfolder "$staging" -ov -format UDZO "$dmg"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi
if [ -n "${MACOS_NOTARY_PROFILE:-}" ] && [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
else
  echo "MACOS_NOTARY_PROFILE is not set: the .dmg is not notarized." >&2
fi
echo "$dmg"
