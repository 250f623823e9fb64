; TLS Readiness Checker: Windows installer (NSIS 3). Installs for the current user, without administrator rights.
;
;   makensis -DVERSION=0.1.0 -DSOURCE_DIR=dist\tls-readiness -DOUT_FILE=dist\tls-readiness-checker-0.1.0-setup.exe ^
;            installers\windows\tls-readiness.nsi
;
; installers/build passes these from app/__init__.py. Silent install for IT: tls-readiness-checker-setup.exe /S
; (Start-menu shortcuts; add /DESKTOP for a desktop shortcut too; /D=C:\path as the last option changes the folder).
; Silent uninstall: "%LOCALAPPDATA%\Programs\TLS Readiness Checker\uninstall.exe" /S

; A 64-bit installer for the 64-bit program (Debian's makensis would otherwise make a 32-bit one). Official NSIS
; builds for Windows carry no amd64 stubs, so the release workflow builds this on Linux, as the Windows lane does.
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user

!ifndef VERSION
  !error "Pass -DVERSION=x.y.z (installers/build does)"
!endif
!ifndef SOURCE_DIR
  !error "Pass -DSOURCE_DIR=the PyInstaller folder (dist\tls-readiness)"
!endif
!ifndef OUT_FILE
  !define OUT_FILE "tls-readiness-checker-${VERSION}-setup.exe"
!endif
!ifdef UNCOMPRESSED ; a quick compile that only checks the script (CI on Linux)
  SetCompress off
!else
  SetCompressor /SOLID /FINAL lzma
!endif

!define NAME "TLS Readiness Checker"
!define PUBLISHER "TLS Readiness Checker developers"
!define GUI_EXE "tls-readiness-gui.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\TLSReadinessChecker"
!define ICON_FILE "..\..\app\resources\icons\tls-readiness.ico"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "WinVer.nsh"

Name "${NAME}"
OutFile "${OUT_FILE}"
InstallDir "$LOCALAPPDATA\Programs\${NAME}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${NAME} ${VERSION}"

; The version shown in the installer's file properties (four numbers).
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${NAME} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${ICON_FILE}"
!define MUI_UNICON "${ICON_FILE}"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "This installs ${NAME} ${VERSION} for you only: no administrator rights are needed.$\r$\n$\r$\nIt checks that this computer can reach the California ISO's market systems (ADS, CMRI, OMS, the Market Participant Portal) over TLS 1.2, and says in plain words what to do when it cannot.$\r$\n$\r$\nPress Next to continue."
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${NAME} now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "${NAME} (required)" SecProgram
  SectionIn RO
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  ; An older version's files go first, so nothing stale is left among the new ones.
  RMDir /r "$INSTDIR\_internal"
  File /r "${SOURCE_DIR}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${NAME}"
  CreateShortcut "$SMPROGRAMS\${NAME}\${NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}" 0
  CreateShortcut "$SMPROGRAMS\${NAME}\Check now.lnk" "$INSTDIR\${GUI_EXE}" "--run" "$INSTDIR\${GUI_EXE}" 0 \
    SW_SHOWNORMAL "" "Check the connection to the ISO at once"

  ; Apps & features (per user, so no administrator rights are needed).
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${GUI_EXE},0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  SetShellVarContext current
  CreateShortcut "$DESKTOP\${NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}" 0
SectionEnd

Function .onInit
  ; Qt 6 needs Windows 10 version 1809 (build 17763) or newer. On older Windows: one sentence, exit status 2, nothing
  ; installed (a silent install shows no message, only the exit status).
  ${IfNot} ${AtLeastWin10}
  ${OrIfNot} ${AtLeastBuild} 17763
    MessageBox MB_OK|MB_ICONSTOP "${NAME} needs Windows 10 (version 1809 or newer) or Windows 11. This computer has an older Windows, so nothing was installed. Please ask your IT department for help." /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  ; Silent installs (/S) take the Start-menu shortcuts; /DESKTOP adds the desktop one.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/DESKTOP" $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecDesktop} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$DESKTOP\${NAME}.lnk"
  RMDir /r "$SMPROGRAMS\${NAME}"
  ; Only what the installer put there: the program's own files, never the folder's other contents.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\tls-readiness.exe"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
