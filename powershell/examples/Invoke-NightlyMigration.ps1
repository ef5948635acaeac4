#Requires -Version 5.1
#Requires -Modules Bms2Intune, ExchangeOnlineManagement, Microsoft.PowerShell.SecretManagement
<#
    Nightly BMS -> Intune migration job. Register once (as an account that can read the
    certificate's private key):
      $action  = New-ScheduledTaskAction -Execute 'pwsh.exe' -Argument '-NoProfile -NonInteractive -File D:\bms2intune\Invoke-NightlyMigration.ps1'
      $trigger = New-ScheduledTaskTrigger -Daily -At 2am
      Register-ScheduledTask -TaskName 'BMS to Intune' -Action $action -Trigger $trigger -User 'CONTOSO\svc-bms2intune' -Password (Read-Host 'password')
#>
[CmdletBinding()]
param(
    [string] $Root = 'D:\bms2intune',
    [string] $TenantId = 'contoso.onmicrosoft.com',
    [string] $ClientId = '11111111-2222-3333-4444-555555555555',
    [string] $CertificateThumbprint = '0123456789ABCDEF0123456789ABCDEF01234567',
    [string] $PilotGroup = 'BMS Pilot',
    [string] $Sku = 'EMS',
    [string] $ReviewShare = '\\fileserver\migration'
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$workspace = Join-Path $Root 'work'
$exports = Join-Path $Root 'exports'            # nightly CSV/XLSX exports dropped here
$approved = Join-Path $ReviewShare 'approved-plan.xlsx'
Start-Transcript -Path (Join-Path $Root ("logs\{0:yyyy-MM-dd}.log" -f (Get-Date))) -Append

try {
    # 1. BMS policies, straight from Security & Compliance PowerShell (app-only).
    Connect-IPPSSession -AppId $ClientId -CertificateThumbprint $CertificateThumbprint -Organization $TenantId -ShowBanner:$false
    Export-BmsDevicePolicy -Path (Join-Path $exports 'bms-policies.json') -Force | Out-Null
    Disconnect-ExchangeOnline -Confirm:$false

    # 2. A fresh snapshot; any rejected row stops the job (the error names file, row and column).
    Get-ChildItem -Path $exports -File |
        Where-Object Extension -in '.csv', '.xlsx', '.json' |
        Import-BmsTenantData -Workspace $workspace -Strict |
        Format-Table -AutoSize | Out-String | Write-Output

    # 3. Readiness: the findings go to the share; a blocker stops the job.
    $findings = Test-BmsMigrationReadiness -Workspace $workspace
    $findings | Select-Object Severity, Code, Message, Remedy, @{ n = 'Objects'; e = { $_.Objects -join '; ' } } |
        Export-Csv -Path (Join-Path $ReviewShare 'readiness.csv') -NoTypeInformation -Encoding UTF8
    $null = Test-BmsMigrationReadiness -Workspace $workspace -FailOn blocker

    # 4. Intune policies (Android Enterprise work profile).
    ConvertTo-BmsIntunePolicy -Workspace $workspace -AndroidTarget work-profile | Out-Null

    # 5. The plan: proposed on the first run, then the approved workbook, re-validated nightly.
    if (-not (Test-Path -LiteralPath $approved)) {
        New-BmsWavePlan -Workspace $workspace -PilotGroup $PilotGroup -WaveSize 250 -KeepTogether department `
            -Start ((Get-Date).Date.AddDays(7)) -Every 7 -SoakDays 14 -SkipUnsupported -Confirm:$false | Out-Null
        Export-BmsWavePlan -Workspace $workspace -Path (Join-Path $ReviewShare 'proposed-plan.xlsx') -Force | Out-Null
        Write-Output "Plan proposed in $ReviewShare; save the reviewed workbook as $approved."
        return
    }
    $waves = New-BmsWavePlan -Workspace $workspace -FromEdited $approved -Confirm:$false
    $today = $waves | Where-Object { $_.Date -and ([datetime]$_.Date).Date -eq (Get-Date).Date }

    if ($today) {
        # 6. Graph, as the app registration; its client secret lives in a SecretManagement vault
        #    of the service account (the secret reaches bms2intune only on its standard input).
        Connect-BmsGraph -TenantId $TenantId -ClientId $ClientId -ClientSecret (Get-Secret -Name Bms2IntuneSecret) | Out-Null

        # 7. The policy steps due before this wave: create the Intune policies, then assign them
        #    to the pilot group (before wave 0) or to their recommended groups (the policy gate,
        #    before wave 1). Journaled: what is already done is skipped, never repeated.
        $steps = if ($today.Number -eq 0) { 'policies', 'assign-pilot' } else { 'policies', 'assign' }
        $steps | Invoke-BmsMigrationStep -Workspace $workspace -Confirm:$false | Out-Null

        # 8. License today's wave; failed operations are reported and resumed by the next run.
        $actions = $today | Invoke-BmsMigrationWave -Sku $Sku -Confirm:$false
        $actions | Group-Object Outcome | Select-Object Name, Count | Format-Table | Out-String | Write-Output
    }

    # 9. The report, for the change board.
    New-BmsMigrationReport -Workspace $workspace -OutputPath (Join-Path $ReviewShare 'report') -Confirm:$false | Out-Null
    Get-BmsMigrationStatus -Workspace $workspace | Format-Table | Out-String | Write-Output
} catch {
    # The ErrorId is the binary's stable code (e.g. import.csv.bad_header, readiness.fail_on);
    # TargetObject names the file and row when there is one.
    Write-Output ("FAILED [{0}] {1}" -f $_.FullyQualifiedErrorId, $_.Exception.Message)
    if ($_.TargetObject) { $_.TargetObject | Format-List | Out-String | Write-Output }
    exit 1
} finally {
    Stop-Transcript
}
